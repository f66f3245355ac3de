package build

import (
	"fmt"
	"io"
	"maps"
	"sync"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// Lock is nook.lock as the builds of one command share it: each build
// sets its environment's entry as soon as it is known, and the file is
// written then, under one mutex, so that environments built at once keep
// each other's entries.
type Lock struct {
	path     string // where it is written; "" keeps it in memory
	optional bool   // a lock that cannot be written is a warning, not an error

	mu      sync.Mutex
	lock    *layers.Lock
	changed bool
}

// NewLock starts from lock (nil: no nook.lock yet) and writes it to path
// whenever an entry changes ("" never writes; Current has it). With
// optional, a lock that cannot be written is a warning on the build's
// output rather than an error: a run in a read-only checkout still runs.
func NewLock(path string, lock *layers.Lock, optional bool) *Lock {
	return &Lock{path: path, optional: optional, lock: lock}
}

// Current is the lock as it stands now (nil: none yet).
func (l *Lock) Current() *layers.Lock {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lock
}

// Changed reports whether an entry was set or dropped since NewLock.
func (l *Lock) Changed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

// entry is the lock's entry of environment x on this platform when it is
// for x's image.
func (l *Lock) entry(x *env.Environment) *layers.EnvLock {
	return lockEntry(l.Current(), x)
}

// set sets the entry of environment x on this platform, and writes the
// lock when that changed it; a warning goes to out.
func (l *Lock) set(x *env.Environment, entry *layers.EnvLock, out io.Writer) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	lock, changed := l.lock.With(x.Name, layers.HostPlatform(), entry)
	if !changed {
		return nil
	}
	return l.write(lock, out)
}

// Prune drops the entries of roles that no longer have an image of their
// own in e, writing the lock when there were any.
func (l *Lock) Prune(e *env.Env, out io.Writer) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lock == nil {
		return nil
	}
	lock, changed := l.lock.WithoutRoles(func(role string) bool {
		r := e.Roles[role]
		return r != nil && r.Own != nil
	})
	if !changed {
		return nil
	}
	return l.write(lock, out)
}

// write makes lock the current one and writes it; l.mu is held.
func (l *Lock) write(lock *layers.Lock, out io.Writer) error {
	l.lock, l.changed = lock, true
	if l.path == "" {
		return nil
	}
	if err := lock.Write(l.path); err != nil {
		if !l.optional {
			return err
		}
		if out != nil {
			fmt.Fprintf(out, "nook: warning: %v\n", err)
		}
	}
	return nil
}

// lockEntry is lock's entry of environment x on this platform when it is
// for x's image.
func lockEntry(lock *layers.Lock, x *env.Environment) *layers.EnvLock {
	pl := lock.Entry(x.Name, layers.HostPlatform())
	if pl == nil || pl.Image != x.ImageRef || pl.Digest == "" {
		return nil
	}
	return pl
}

// entryOf is the lock entry of environment x built on the image digest by
// plan: with a packages step whose key is final, every package it
// installed and the declared names; with one whose key is provisional (a
// layer an older nook made), the declared packages' versions alone, as
// that nook wrote.
func entryOf(x *env.Environment, digest string, plan *Plan) *layers.EnvLock {
	entry := &layers.EnvLock{Image: x.ImageRef, Digest: digest, Packages: map[string]string{}}
	for _, st := range plan.Steps {
		if st.Kind != layers.KindPackages {
			continue
		}
		entry.Manager = st.manager
		if plan.Pinned {
			entry.Declared = st.packages
			entry.Packages = maps.Clone(st.versions)
			break
		}
		for _, n := range st.packages {
			if v := st.versions[n]; v != "" {
				entry.Packages[n] = v
			}
		}
	}
	return entry
}

// lockKeeper brings the lock's entry of one environment on this platform
// up to date as soon as it is known.
type lockKeeper struct {
	lock   *Lock
	x      *env.Environment
	digest string    // the image's
	out    io.Writer // for a warning
}

// keepImage sets an entry pinning the image alone when the lock has none
// for it: a build that fails before its packages are known keeps the
// image it was building on. An entry for the same image and digest is
// left as it is, its packages' versions with it.
func (k *lockKeeper) keepImage() error {
	old := k.lock.Current().Entry(k.x.Name, layers.HostPlatform())
	if old != nil && old.Image == k.x.ImageRef && old.Digest == k.digest {
		return nil
	}
	return k.lock.set(k.x, &layers.EnvLock{Image: k.x.ImageRef, Digest: k.digest, Packages: map[string]string{}}, k.out)
}

// keep sets the entry plan pins.
func (k *lockKeeper) keep(plan *Plan) error {
	return k.lock.set(k.x, entryOf(k.x, k.digest, plan), k.out)
}
