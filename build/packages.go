package build

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// lockedVersions are the versions the lock entry pl pins for the declared
// packages, and whether they are complete (see Input). When nook.toml
// declares other packages than the entry, those still declared keep their
// versions and the rest is resolved again.
func lockedVersions(pl *layers.EnvLock, declared []string) (map[string]string, bool) {
	if pl == nil {
		return nil, false
	}
	if sameDeclared(pl, declared) {
		return maps.Clone(pl.Packages), pl.Complete()
	}
	v := map[string]string{}
	for _, n := range declared {
		if x := pl.Packages[n]; x != "" {
			v[n] = x
		}
	}
	return v, false
}

// sameDeclared reports whether the lock entry pl is for exactly the
// declared packages.
func sameDeclared(pl *layers.EnvLock, declared []string) bool {
	names := slices.Compact(slices.Sorted(slices.Values(declared)))
	if pl.Complete() {
		return slices.Equal(pl.Declared, names)
	}
	// Written by an older nook: its packages are the declared ones.
	if len(names) != len(pl.Packages) {
		return false
	}
	for _, n := range names {
		if pl.Packages[n] == "" {
			return false
		}
	}
	return true
}

// resolved pins the packages of a plan whose packages step is not pinned
// by what an earlier build of the same packages on the same image (by any
// project) installed, when the store still has the layer it made and its
// versions agree with those the lock pins: the step then need not run. It
// returns plan and in as they were otherwise.
func (b *Builder) resolved(plan *Plan, in Input) (*Plan, Input, error) {
	if len(in.Packages) == 0 {
		return plan, in, nil
	}
	r, err := b.Store.LookupResolution(resolutionKey(in))
	if err != nil {
		return nil, in, err
	}
	if r == nil || r.Manager != in.Manager.Name {
		return plan, in, nil
	}
	for n, v := range in.Versions {
		if r.Packages[n] != v {
			return plan, in, nil
		}
	}
	pinned := in
	pinned.Versions, pinned.Complete = maps.Clone(r.Packages), true
	p, err := MakePlan(pinned)
	if err != nil || !p.Pinned || p.Steps[0].Key != r.Layer {
		return plan, in, nil
	}
	return p, pinned, nil
}

// errStoredAs ends the making of a packages layer under a provisional key
// whose content was stored (or found) under the key of what it installed.
var errStoredAs = errors.New("stored under the key of the installed versions")

// packages makes the packages layer of step i and returns the plan whose
// packages step pins everything the step installed (the declared packages
// and what they pulled in, from the manager's lists before and after).
// A step whose key is that final key already is stored under it; one with
// a provisional key (no lock, or one that pins the declared packages
// alone) is moved under the final key once the step ran — unless that
// layer is in the store already (madeBefore), when what the step made is
// thrown away. Either way the store records what the step installed
// (layers.Resolution), for the next build of the same packages.
func (b *Builder) packages(ctx context.Context, e *env.Env, plan *Plan, i int, in Input, base *layers.Snapshot, lowers []string) (*Plan, outcome, error) {
	st := plan.Steps[i]
	m := in.Manager
	var final *Plan
	var got map[string]string
	result := madeHere
	fill := func(upper, work string) error {
		if err := b.runStep(ctx, e, plan, i, base, lowers, upper, work, m.Env); err != nil {
			return missingVersions(err, m, plan.label(i))
		}
		var err error
		if got, err = readInstalled(m, upper, st.packages); err != nil {
			return fmt.Errorf("build step %s: %w", plan.label(i), err)
		}
		if err := checkPins(m, st, got, in.Complete); err != nil {
			return err
		}
		fin := in
		fin.Versions, fin.Complete = got, true
		if final, err = MakePlan(fin); err != nil {
			return err
		}
		fst := final.Steps[i]
		if fst.Key == st.Key {
			return nil
		}
		if b.Store.HasLayer(fst.Key) {
			result = madeBefore
			return errStoredAs
		}
		moved, err := b.Store.MakeLayer(ctx, fst.Key, builtLayer(fst), func(u, _ string) error {
			if err := os.Remove(u); err != nil {
				return err
			}
			return os.Rename(upper, u)
		}, b.Remove)
		if err != nil {
			return err
		}
		if !moved {
			result = madeElsewhere
		}
		return errStoredAs
	}
	ok, err := b.Store.MakeLayer(ctx, st.Key, builtLayer(st), fill, b.Remove)
	switch {
	case errors.Is(err, errStoredAs):
	case err != nil:
		return nil, madeHere, err
	case !ok:
		// Made by another nook meanwhile, under this key: fill never ran.
		return plan, madeElsewhere, nil
	}
	r := layers.Resolution{Key: resolutionKey(in), Layer: final.Steps[i].Key, Manager: m.Name, Packages: got}
	if err := b.Store.RecordResolution(r); err != nil {
		return nil, madeHere, err
	}
	return final, result, nil
}

// readInstalled reads and removes the lists of installed packages the
// packages step left in its upper directory, and returns what it
// installed (Manager.installed).
func readInstalled(m *Manager, upper string, declared []string) (map[string]string, error) {
	var lists [2]string
	for i, name := range []string{beforeFile, afterFile} {
		path := filepath.Join(upper, name)
		out, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading the installed packages: %w", err)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("reading the installed packages: %w", err)
		}
		lists[i] = string(out)
	}
	return m.installed(lists[0], lists[1], declared)
}

// checkPins checks what a packages step installed against the versions it
// pinned: each at its version, and with a complete set nothing else.
func checkPins(m *Manager, st Step, got map[string]string, complete bool) error {
	for _, n := range slices.Sorted(maps.Keys(st.versions)) {
		if want := st.versions[n]; got[n] != want {
			return &VersionError{Package: n, Want: want, Got: got[n], Manager: m.Name}
		}
	}
	if complete {
		for _, n := range slices.Sorted(maps.Keys(got)) {
			if _, ok := st.versions[n]; !ok {
				return &VersionError{Package: n, Got: got[n], Manager: m.Name}
			}
		}
	}
	return nil
}

// missingVersions turns a failed packages step that asked for versions
// the repositories no longer offer into a *MissingVersionError naming
// them; other errors are returned as they are.
func missingVersions(err error, m *Manager, label string) error {
	var failed *StepError
	if m.missing == nil || !errors.As(err, &failed) || !failed.Pinned {
		return err
	}
	if gone := m.missing(failed.Tail); len(gone) > 0 {
		return &MissingVersionError{Label: label, Manager: m.Name, Missing: gone}
	}
	return err
}
