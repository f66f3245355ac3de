package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// LockFile is the name of the lock file beside nook.toml.
const LockFile = "nook.lock"

// LockPath is where e's nook.lock lives.
func LockPath(e *env.Env) string { return filepath.Join(e.ProjectDir, LockFile) }

// hostImage is the "host" base, which has no layers to build on.
const hostImage = "host"

// Builder builds environments into a store.
type Builder struct {
	Store *layers.Store
	// Pull configures pulls: registries from the user config, progress.
	Pull layers.PullOptions
	// IDMap is the id-map mode the steps run under: env.IDMapSingle (the
	// default: one id, ownership calls faked by a seccomp filter) or
	// env.IDMapFull. It is part of every built layer's key.
	IDMap string
	// Update ignores the lock: the image's tag is resolved again and the
	// packages are installed unpinned, and the lock is rewritten.
	Update bool
	// Offline never touches the network: what the store lacks is an error
	// (an *OfflineError) instead of a pull or a step run.
	Offline bool
	// Out receives the steps' announcements and their output, each line
	// prefixed with "[N/M]"; nil discards them.
	Out io.Writer
	// ResolvConf is the steps' /etc/resolv.conf (the host's).
	ResolvConf []byte
	// Remove removes a failed step's directory; nil is the store's own
	// removal. Under the full id map it must cope with files owned by
	// subordinate ids (rootless.RemoveAll).
	Remove func(string) error
}

// Result is what a build produced.
type Result struct {
	Snapshot *layers.Snapshot
	// Lock is the lock to keep: the one given with this platform's entry
	// brought up to date; nil for the "host" base.
	Lock *layers.Lock
	// LockChanged is set when Lock differs from the lock given.
	LockChanged bool
	// Ran counts the steps that ran; 0 when everything was in the store.
	Ran int
}

// Lookup returns e's environment when the store has it built exactly as
// lock pins it: no pull, no step, no network, and for an unchanged project
// a hash per step and one record read. The error wraps layers.ErrNotBuilt
// when something must be built (or the lock brought up to date) first.
func Lookup(store *layers.Store, e *env.Env, lock *layers.Lock, idmap string) (*layers.Snapshot, error) {
	if e.Image == hostImage {
		return store.Lookup(hostImage)
	}
	pl := lockEntry(lock, e)
	if pl == nil || !sameNames(pl.Packages, e.Packages) {
		return nil, fmt.Errorf("%s: %w", LockFile, layers.ErrNotBuilt)
	}
	if localSource(e.Image) {
		// A layout or archive can change under the same name: one stat
		// (in Lookup) tells whether it still holds the image pinned.
		if snap, err := store.Lookup(e.Image); err != nil || snap.Digest != pl.Digest {
			return nil, fmt.Errorf("%s: image %s changed: %w", LockFile, e.Image, layers.ErrNotBuilt)
		}
	}
	var m *Manager
	if len(e.Packages) > 0 {
		if m = ManagerByName(pl.Manager); m == nil {
			return nil, fmt.Errorf("%s: %w", LockFile, layers.ErrNotBuilt)
		}
	}
	plan, err := MakePlan(Input{
		Platform: layers.HostPlatform(), Digest: pl.Digest, Manager: m, Packages: e.Packages, Versions: pl.Packages,
		Setup: e.Setup, Env: e.Vars, IDMap: idmap,
	})
	if err != nil {
		return nil, err
	}
	return store.LookupEnv(plan.Top)
}

// Build makes what e's environment lacks and returns it: the image
// (pinned by lock when it has an entry for this platform and the same
// image), then each step whose layer is not in the store, in order.
func (b *Builder) Build(ctx context.Context, e *env.Env, lock *layers.Lock) (*Result, error) {
	if e.Image == hostImage {
		if len(e.Packages) > 0 || len(e.Setup) > 0 {
			return nil, errors.New(`the "host" base takes no packages or setup steps: it is the host's root, read-only`)
		}
		snap, err := b.Store.Lookup(hostImage)
		return &Result{Snapshot: snap, Lock: lock}, err
	}
	pl := lockEntry(lock, e)
	if b.Update {
		pl = nil
	}
	base, err := b.image(ctx, e.Image, pl)
	if err != nil {
		return nil, err
	}
	var m *Manager
	versions := map[string]string{}
	if len(e.Packages) > 0 {
		if pl != nil {
			m = ManagerByName(pl.Manager)
			for _, n := range e.Packages {
				if v := pl.Packages[n]; v != "" {
					versions[n] = v
				}
			}
		}
		if m == nil {
			if m, err = Detect(e.Image, base.Lowers); err != nil {
				return nil, err
			}
		}
	}
	in := Input{
		Platform: layers.HostPlatform(), Digest: base.Digest, Manager: m, Packages: e.Packages, Versions: versions,
		Setup: e.Setup, Env: e.Vars, IDMap: b.idmap(),
	}
	plan, err := MakePlan(in)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	if plan.Pinned {
		if snap, err := b.Store.LookupEnv(plan.Top); err == nil {
			res.Snapshot = snap
		}
	}
	if res.Snapshot == nil {
		if plan, res.Ran, err = b.steps(ctx, e, plan, in, base); err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(base.Lowers)+len(plan.Steps))
		for _, l := range base.Lowers {
			ids = append(ids, "sha256:"+filepath.Base(l))
		}
		for _, st := range plan.Steps {
			ids = append(ids, st.Key)
		}
		rec := layers.EnvRecord{
			Key: plan.Top, Ref: e.Image, Digest: base.Digest, Platform: layers.HostPlatform(),
			ProjectDir: e.ProjectDir, Layers: ids, Config: base.Config,
		}
		if err := b.Store.RecordEnv(rec); err != nil {
			return nil, err
		}
		if res.Snapshot, err = b.Store.LookupEnv(plan.Top); err != nil {
			return nil, err
		}
	}
	if err := b.Store.RecordProject(e.ProjectID, e.ProjectDir, e.File); err != nil {
		return nil, err
	}
	entry := &layers.PlatformLock{Image: e.ImageRef, Digest: base.Digest, Packages: map[string]string{}}
	if m != nil {
		entry.Manager = m.Name
		for _, n := range e.Packages {
			entry.Packages[n] = versionOf(plan, n)
		}
	}
	res.Lock, res.LockChanged = withEntry(lock, layers.HostPlatform(), entry)
	return res, nil
}

// steps makes the layers of plan that the store lacks. An unpinned
// packages step changes the plan (its key, and so every later key): the
// plan returned is the one whose layers are in the store.
func (b *Builder) steps(ctx context.Context, e *env.Env, plan *Plan, in Input, base *layers.Snapshot) (*Plan, int, error) {
	lowers := slices.Clone(base.Lowers)
	ran := 0
	for i := 0; i < len(plan.Steps); i++ {
		st := plan.Steps[i]
		if b.Store.HasLayer(st.Key) {
			fmt.Fprintf(b.out(), "%s: cached\n", plan.label(i))
			lowers = append(lowers, b.Store.LayerPath(st.Key))
			continue
		}
		if b.Offline {
			if st.Kind == layers.KindPackages && !plan.Pinned {
				return nil, 0, &OfflineError{What: "the versions of " + joinNames(unpinned(in)) + " (" + LockFile + " pins none)"}
			}
			return nil, 0, &OfflineError{What: "the layer of build step " + plan.label(i)}
		}
		fmt.Fprintln(b.out(), plan.label(i))
		var made bool
		var err error
		if st.Kind == layers.KindPackages {
			var got map[string]string
			got, made, err = b.packages(ctx, e, plan, i, in, base, lowers)
			if err == nil && !plan.Pinned {
				in.Versions = got
				if plan, err = MakePlan(in); err == nil && !plan.Pinned {
					err = fmt.Errorf("build step %s: versions of %s still unknown", plan.label(i), joinNames(unpinned(in)))
				}
			}
		} else {
			fill := func(upper, work string) error {
				return b.runStep(ctx, e, plan, i, base, lowers, upper, work, nil)
			}
			made, err = b.Store.MakeLayer(ctx, st.Key, builtLayer(st), fill, b.Remove)
		}
		if err != nil && ctx.Err() != nil {
			return nil, 0, &InterruptedError{Label: plan.label(i)}
		}
		// The store's wrapping names a key the user never sees.
		var failed *StepError
		if errors.As(err, &failed) {
			return nil, 0, failed
		}
		var version *VersionError
		if errors.As(err, &version) {
			return nil, 0, version
		}
		if err != nil {
			return nil, 0, err
		}
		if made {
			ran++
		} else {
			fmt.Fprintf(b.out(), "%s: built by another nook meanwhile\n", plan.label(i))
		}
		lowers = append(lowers, b.Store.LayerPath(plan.Steps[i].Key))
	}
	return plan, ran, nil
}

// errStoredAs ends the making of a provisional packages layer whose
// content was stored under its final key.
var errStoredAs = errors.New("stored under the key of the installed versions")

// packages makes the packages layer of step i and returns the versions
// installed. A pinned step is made under its key. An unpinned one (no lock
// yet, or a package the lock does not know) runs under its provisional key
// and, once the versions are known, its directory is moved under the key
// of those versions: the key a build with the lock written now computes.
func (b *Builder) packages(ctx context.Context, e *env.Env, plan *Plan, i int, in Input, base *layers.Snapshot, lowers []string) (map[string]string, bool, error) {
	st := plan.Steps[i]
	m := in.Manager
	var got map[string]string
	made := false
	fill := func(upper, work string) error {
		if err := b.runStep(ctx, e, plan, i, base, lowers, upper, work, m.Env); err != nil {
			return err
		}
		var err error
		if got, err = readVersions(m, upper, st.packages); err != nil {
			return fmt.Errorf("build step %s: %w", plan.label(i), err)
		}
		for _, n := range st.packages {
			if want := in.Versions[n]; want != "" && got[n] != want {
				return &VersionError{Package: n, Want: want, Got: got[n], Manager: m.Name}
			}
		}
		if plan.Pinned {
			return nil
		}
		final := in
		final.Versions = got
		fp, err := MakePlan(final)
		if err != nil {
			return err
		}
		fst := fp.Steps[i]
		moved, err := b.Store.MakeLayer(ctx, fst.Key, builtLayer(fst), func(u, _ string) error {
			if err := os.Remove(u); err != nil {
				return err
			}
			return os.Rename(upper, u)
		}, b.Remove)
		if err != nil {
			return err
		}
		made = moved
		return errStoredAs
	}
	ok, err := b.Store.MakeLayer(ctx, st.Key, builtLayer(st), fill, b.Remove)
	switch {
	case errors.Is(err, errStoredAs):
		return got, made, nil
	case err != nil:
		return nil, false, err
	case !ok && got == nil:
		// Made by another nook meanwhile (pinned keys only): the lock's
		// versions are what it installed.
		return in.Versions, false, nil
	}
	return got, ok, nil
}

// readVersions reads and removes the versions file the packages step left
// in its upper directory.
func readVersions(m *Manager, upper string, names []string) (map[string]string, error) {
	path := filepath.Join(upper, versionsFile)
	out, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the installed versions: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return nil, fmt.Errorf("reading the installed versions: %w", err)
	}
	return m.versions(string(out), names)
}

// image returns the snapshot of the image ref, pinned at pl's digest when
// the lock has one, pulling it when the store lacks it.
func (b *Builder) image(ctx context.Context, ref string, pl *layers.PlatformLock) (*layers.Snapshot, error) {
	r, err := layers.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	want := ""
	if pl != nil {
		want = pl.Digest
	}
	lookup := ref
	if want != "" && r.Kind == layers.KindRegistry {
		// The digest, not the tag: no registry round-trip, and a tag that
		// moved since the lock was written does not matter.
		lookup = r.Name.Context().Name() + "@" + want
	}
	snap, err := b.Store.Lookup(lookup)
	if err == nil && b.Update && r.Kind == layers.KindRegistry {
		err = layers.ErrNotPulled // --update resolves the tag again
	}
	if err != nil {
		if !errors.Is(err, layers.ErrNotPulled) {
			return nil, err
		}
		if b.Offline && r.Kind == layers.KindRegistry {
			what := "image " + ref
			if want != "" {
				what += " at " + want + " (pinned by " + LockFile + ")"
			}
			return nil, &OfflineError{What: what}
		}
		if snap, err = b.Store.Pull(ctx, lookup, b.Pull); err != nil {
			return nil, err
		}
	}
	if want != "" && snap.Digest != want {
		return nil, &ImageChangedError{Ref: ref, Locked: want, Now: snap.Digest}
	}
	out := *snap
	out.Ref = ref
	return &out, nil
}

func (b *Builder) out() io.Writer {
	if b.Out == nil {
		return io.Discard
	}
	return b.Out
}

func (b *Builder) idmap() string {
	if b.IDMap == "" {
		return env.IDMapSingle
	}
	return b.IDMap
}

// builtLayer is the record of st's layer.
func builtLayer(st Step) layers.BuiltLayer {
	return layers.BuiltLayer{Parent: st.Parent, Kind: st.Kind, Text: st.Text}
}

// localSource reports whether ref names an image in a local file (an OCI
// layout or a docker archive) rather than a registry.
func localSource(ref string) bool {
	return strings.HasPrefix(ref, "oci:") || strings.HasPrefix(ref, "docker-archive:")
}

// lockEntry is lock's entry for this platform when it is for e's image.
func lockEntry(lock *layers.Lock, e *env.Env) *layers.PlatformLock {
	if lock == nil {
		return nil
	}
	pl := lock.Platforms[layers.HostPlatform()]
	if pl == nil || pl.Image != e.ImageRef || pl.Digest == "" {
		return nil
	}
	return pl
}

// withEntry returns lock with platform's entry set to pl, and whether that
// changed it.
func withEntry(lock *layers.Lock, platform string, pl *layers.PlatformLock) (*layers.Lock, bool) {
	out := &layers.Lock{Version: layers.LockVersion, Platforms: map[string]*layers.PlatformLock{}}
	if lock != nil {
		maps.Copy(out.Platforms, lock.Platforms)
	}
	old := out.Platforms[platform]
	out.Platforms[platform] = pl
	same := lock != nil && old != nil && old.Image == pl.Image && old.Digest == pl.Digest &&
		old.Manager == pl.Manager && maps.Equal(old.Packages, pl.Packages)
	return out, !same
}

// versionOf is the version plan pins package n at.
func versionOf(plan *Plan, n string) string {
	for _, st := range plan.Steps {
		if st.Kind == layers.KindPackages {
			return st.versions[n]
		}
	}
	return ""
}

// sameNames reports whether the lock pins exactly the declared packages.
func sameNames(pinned map[string]string, declared []string) bool {
	names := slices.Compact(slices.Sorted(slices.Values(declared)))
	if len(names) != len(pinned) {
		return false
	}
	for _, n := range names {
		if pinned[n] == "" {
			return false
		}
	}
	return true
}

// unpinned lists the declared packages in has no version of.
func unpinned(in Input) []string {
	var out []string
	for _, n := range in.Packages {
		if in.Versions[n] == "" {
			out = append(out, n)
		}
	}
	return out
}

func joinNames(names []string) string {
	return strings.Join(names, ", ")
}
