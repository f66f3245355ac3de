package build

import (
	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// Status is how far e's environment is from running without a pull or a
// step: what nook doctor reports for a project.
type Status struct {
	// Locked: lock has an entry for this platform that pins the image as
	// nook.toml names it, and exactly the declared packages. A build
	// brings it up to date when it is not.
	Locked bool
	// Pulled: the image (at the lock's digest, when locked) is in the
	// store.
	Pulled bool
	// Built: the whole environment is in the store, as Lookup finds it.
	Built bool
}

// Check says how far environment x of project e is from ready in store
// (nil: there is no store yet), without touching the network: lock is
// nook.lock (nil when missing), idmap the user's id-map mode. The "host"
// base is always ready.
func Check(store *layers.Store, e *env.Env, x *env.Environment, lock *layers.Lock, idmap string) Status {
	if x.Image == hostImage {
		return Status{Locked: true, Pulled: true, Built: true}
	}
	var s Status
	pl := lockEntry(lock, x)
	s.Locked = pl != nil && sameDeclared(pl, x.Packages)
	if store == nil {
		return s
	}
	lookup := x.Image
	if r, err := layers.ParseReference(x.Image); err == nil && pl != nil {
		lookup = pinnedRef(x.Image, r, pl.Digest)
	}
	snap, err := store.Lookup(lookup)
	s.Pulled = err == nil && (pl == nil || snap.Digest == pl.Digest)
	if s.Locked && s.Pulled {
		_, err := Lookup(store, e, x, lock, idmap)
		s.Built = err == nil
	}
	return s
}
