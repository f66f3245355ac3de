package build

import (
	"fmt"
	"maps"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// lockEntry is lock's entry for this platform when it is for e's image.
func lockEntry(lock *layers.Lock, e *env.Env) *layers.EnvLock {
	if lock == nil {
		return nil
	}
	pl := lock.Platforms[layers.HostPlatform()]
	if pl == nil || pl.Image != e.ImageRef || pl.Digest == "" {
		return nil
	}
	return pl
}

// entryOf is the lock entry of e built on the image digest by plan: with
// a packages step whose key is final, every package it installed and the
// declared names; with one whose key is provisional (a layer an older
// nook made), the declared packages' versions alone, as that nook wrote.
func entryOf(e *env.Env, digest string, plan *Plan) *layers.EnvLock {
	entry := &layers.EnvLock{Image: e.ImageRef, Digest: digest, Packages: map[string]string{}}
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

// lockKeeper brings the lock's entry for this platform up to date as soon
// as it is known, and writes the lock (Builder.LockPath) when that changed
// it.
type lockKeeper struct {
	b       *Builder
	e       *env.Env
	digest  string       // the image's
	lock    *layers.Lock // the lock as it stands now
	changed bool         // lock differs from the one the build was given
}

// keepImage sets an entry pinning the image alone when the lock has none
// for it: a build that fails before its packages are known keeps the
// image it was building on. An entry for the same image and digest is
// left as it is, its packages' versions with it.
func (k *lockKeeper) keepImage() error {
	var old *layers.EnvLock
	if k.lock != nil {
		old = k.lock.Platforms[layers.HostPlatform()]
	}
	if old != nil && old.Image == k.e.ImageRef && old.Digest == k.digest {
		return nil
	}
	return k.set(&layers.EnvLock{Image: k.e.ImageRef, Digest: k.digest, Packages: map[string]string{}})
}

// keep sets the entry plan pins.
func (k *lockKeeper) keep(plan *Plan) error {
	return k.set(entryOf(k.e, k.digest, plan))
}

// set sets the entry for this platform, and writes the lock when that
// changed it.
func (k *lockKeeper) set(entry *layers.EnvLock) error {
	lock, changed := withEntry(k.lock, layers.HostPlatform(), entry)
	if !changed {
		return nil
	}
	k.lock, k.changed = lock, true
	if k.b.LockPath == "" {
		return nil
	}
	if err := lock.Write(k.b.LockPath); err != nil {
		if !k.b.LockOptional {
			return err
		}
		fmt.Fprintf(k.b.out(), "nook: warning: %v\n", err)
	}
	return nil
}

// withEntry returns lock with platform's entry set to pl, and whether that
// changed it.
func withEntry(lock *layers.Lock, platform string, pl *layers.EnvLock) (*layers.Lock, bool) {
	out := &layers.Lock{Version: layers.LockVersion, Platforms: map[string]*layers.EnvLock{}}
	if lock != nil {
		maps.Copy(out.Platforms, lock.Platforms)
	}
	old := out.Platforms[platform]
	out.Platforms[platform] = pl
	return out, lock == nil || !old.Equal(pl)
}
