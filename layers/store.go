package layers

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/nookenv/nook/internal/safefile"
)

// The store's subdirectories (SPEC §1).
const (
	layersDir = "layers"  // layers/<diffid-hex>/: a layer unpacked once, shared by every image
	imagesDir = "images"  // images/<digest-hex>.json: an image's layers and config
	refsDir   = "refs"    // refs/<key>.json: what a reference resolved to
	tmpDir    = "tmp"     // tmp/<diffid-hex>.<random>/: a layer being unpacked
	locksDir  = "locks"   // locks/<diffid-hex>.lock: held while a layer is made
	mntDir    = "mnt"     // mnt/: empty; each run mounts its private scratch tmpfs over it
	volsDir   = "volumes" // volumes/<project-id>/<name>/: named volumes (SPEC §6)
)

// Store is the content-addressed store of image layers and the records that
// map references to them. It is safe for concurrent use, also by several
// processes: layers are made under a file lock and renamed into place, and
// records are replaced atomically.
type Store struct {
	root string

	// unpack extracts a layer; tests wrap it to count calls.
	unpack func(r io.Reader, dir string) (Unpacked, error)
	// transport, when set, carries registry traffic (tests keep it on
	// loopback).
	transport http.RoundTripper
	// hostRoot is the root the "host" base lists ("/").
	hostRoot string
}

// storeDir is the policy of the store and its directories (SPEC §8a):
// the user's own, not writable by group or others, no symbolic link but
// the root itself when the user made it (a store moved to another disk).
// Group and others may read it if the user chose so (0755): it holds
// image layers, and may be shared read-only.
var storeDir = safefile.Dir{
	What:          "the store",
	Access:        safefile.Shared,
	FollowOwnLink: true,
	Elsewhere:     "set NOOK_HOME to a directory of your own",
}

// OpenStore opens the store at root, creating root (mode 0700) and its
// subdirectories as needed. The directories above root are the user's
// (~/.local/share) and made as needed; root and its subdirectories are
// made one at a time and checked (storeDir), and one that is not safe is
// a *safefile.UnsafeError that names the fix.
func OpenStore(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", root, err)
	}
	err = storeDir.MakeTop(abs)
	if errors.Is(err, fs.ErrNotExist) { // its parent: made, and then it
		if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
			return nil, fmt.Errorf("opening store %s: %w", abs, err)
		}
		err = storeDir.MakeTop(abs)
	}
	if err != nil {
		return nil, err
	}
	s := &Store{root: abs, unpack: Unpack, hostRoot: "/"}
	for _, d := range []string{layersDir, imagesDir, refsDir, tmpDir, locksDir, mntDir, volsDir} {
		if err := s.makeDir(d); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// makeDir makes (or checks) the store's directory d, as OpenStore does.
func (s *Store) makeDir(d string) error {
	return storeDir.Make(s.path(d))
}

// Root returns the store's absolute root directory.
func (s *Store) Root() string { return s.root }

// ScratchDir is an empty directory over which each run mounts its own
// scratch tmpfs, inside its private mount namespace (rootfs.Options.Scratch).
func (s *Store) ScratchDir() string { return filepath.Join(s.root, mntDir) }

// VolumesDir is the directory of project's named volumes.
func (s *Store) VolumesDir(project string) string { return filepath.Join(s.root, volsDir, project) }

// Lookup returns the snapshot of ref from the store's records: one or two
// small file reads and a stat per layer directory; no network access, no
// hashing, and the layers themselves are not read. A registry tag resolves to
// the digest of its last Pull. The error is ErrNotPulled (errors.Is) when
// ref has not been pulled for the host's platform, or when the oci: layout
// or docker-archive: tarball it was imported from has changed since. A
// source that has been removed keeps its last import. "host" always works.
func (s *Store) Lookup(ref string) (*Snapshot, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if r.Kind == KindHost {
		return hostSnapshot(s.hostRoot)
	}
	return s.lookup(ref, r, HostPlatform())
}

// lookup reads the records of r on platform.
func (s *Store) lookup(written string, r Reference, platform string) (*Snapshot, error) {
	var rr refRecord
	if err := readRecord(s.refPath(r, platform), &rr); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if snap, ok, err := s.lookupDigest(written, r, platform); ok || err != nil {
				return snap, err
			}
			return nil, notPulled(written, "not in the store for "+platform)
		}
		return nil, fmt.Errorf("looking up %s: %w", written, err)
	}
	if rr.Source != nil {
		cur, err := statSource(sourceFile(r))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Removed since the import: the imported image stays usable.
		case err != nil:
			return nil, fmt.Errorf("looking up %s: %w", written, err)
		case *cur != *rr.Source:
			return nil, notPulled(written, sourceFile(r)+" changed since it was imported")
		}
	}
	hex, err := digestHex(rr.Digest)
	if err != nil {
		return nil, fmt.Errorf("looking up %s: record %s: %w", written, s.refPath(r, platform), err)
	}
	var ir imageRecord
	if err := readRecord(filepath.Join(s.root, imagesDir, hex+".json"), &ir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, notPulled(written, "image "+rr.Digest+" is not in the store")
		}
		return nil, fmt.Errorf("looking up %s: %w", written, err)
	}
	return s.snapshotOf(written, &ir)
}

// snapshotOf builds the snapshot of an image record, each layer stacked
// once (stackOnce), none below the last with an opaque root.
func (s *Store) snapshotOf(ref string, ir *imageRecord) (*Snapshot, error) {
	if ir.StackFrom < 0 || ir.StackFrom > len(ir.Layers) {
		return nil, fmt.Errorf("looking up %s: image %s: record stacks from layer %d of %d", ref, ir.Digest, ir.StackFrom, len(ir.Layers))
	}
	ids := stackOnce(ir.Layers[ir.StackFrom:])
	lowers := make([]string, 0, len(ids))
	for _, d := range ids {
		dir, err := s.layerDir(d)
		if err != nil {
			return nil, fmt.Errorf("looking up %s: image %s: %w", ref, ir.Digest, err)
		}
		if _, err := os.Stat(dir); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, notPulled(ref, "layer "+d+" is missing from the store")
			}
			return nil, fmt.Errorf("looking up %s: %w", ref, err)
		}
		lowers = append(lowers, dir)
	}
	return &Snapshot{Ref: ref, Digest: ir.Digest, Lowers: lowers, Config: ir.Config}, nil
}

// stackOnce returns the layer ids of a stack, bottom first, with a layer
// that occurs more than once kept at its topmost place only: its upper copy
// hides everything the lower copy holds, so the result is the same, and
// overlayfs does not take one directory twice.
func stackOnce(ids []string) []string {
	top := make(map[string]int, len(ids))
	for i, id := range ids {
		top[id] = i
	}
	out := make([]string, 0, len(top))
	for i, id := range ids {
		if top[id] == i {
			out = append(out, id)
		}
	}
	return out
}

// layerDir is where the layer with the given DiffID lives.
func (s *Store) layerDir(diffID string) (string, error) {
	hex, err := digestHex(diffID)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, layersDir, hex), nil
}

// path is a path under the store's root.
func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.root}, elem...)...)
}

// refPath is the ref record of r on platform.
func (s *Store) refPath(r Reference, platform string) string {
	return filepath.Join(s.root, refsDir, refKey(r.String(), platform)+".json")
}
