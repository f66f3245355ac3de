package layers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// ImageInfo is an image in the store, for `nook images`.
type ImageInfo struct {
	Digest   string    `json:"digest"`
	Platform string    `json:"platform"`
	Refs     []string  `json:"refs"`    // the references that resolve to it, sorted
	Layers   []string  `json:"layers"`  // DiffIDs, bottom first
	Size     int64     `json:"size"`    // bytes on disk of its layers
	LastUse  time.Time `json:"lastUse"` // its last pull, or the last use of an environment built on it
}

// EnvInfo is a built environment in the store, for `nook images`.
type EnvInfo struct {
	Key        string    `json:"key"`
	Ref        string    `json:"ref"`
	Digest     string    `json:"digest"`
	Platform   string    `json:"platform"`
	ProjectDir string    `json:"projectDir"`
	Role       string    `json:"role,omitempty"` // the role whose own environment it is; "" for the project's
	Layers     int       `json:"layers"`
	Size       int64     `json:"size"`     // bytes on disk of all its layers, image included
	Complete   bool      `json:"complete"` // every layer is in the store
	LastUse    time.Time `json:"lastUse"`
}

// Inventory is what the store holds.
type Inventory struct {
	Images []ImageInfo `json:"images"` // by last use, newest first
	Envs   []EnvInfo   `json:"envs"`   // by last use, newest first
	// LayersSize is the bytes on disk of every layer directory, each
	// counted once however many images and environments share it.
	LayersSize int64 `json:"layersSize"`
	Layers     int   `json:"layers"` // how many layer directories
}

// Inventory lists the store's images and built environments with their
// sizes, measured like du -s.
func (s *Store) Inventory() (*Inventory, error) {
	inv := &Inventory{}
	sizes, err := s.layerSizes()
	if err != nil {
		return nil, err
	}
	for _, sz := range sizes {
		inv.LayersSize += sz
	}
	inv.Layers = len(sizes)
	sizeOf := func(ids []string) (total int64, complete bool) {
		complete = true
		seen := map[string]bool{}
		for _, id := range ids {
			h, _ := strings.CutPrefix(id, "sha256:")
			if seen[h] {
				continue
			}
			seen[h] = true
			sz, ok := sizes[h]
			complete = complete && ok
			total += sz
		}
		return total, complete
	}

	lastUse := map[string]time.Time{} // by image digest
	err = s.eachRecord(envsDir, func(path string) {
		var e EnvRecord
		fi, err := os.Stat(path)
		if err != nil || readRecord(path, &e) != nil {
			return
		}
		size, complete := sizeOf(e.Layers)
		inv.Envs = append(inv.Envs, EnvInfo{Key: e.Key, Ref: e.Ref, Digest: e.Digest, Platform: e.Platform,
			ProjectDir: e.ProjectDir, Role: e.Role, Layers: len(e.Layers), Size: size, Complete: complete, LastUse: fi.ModTime()})
		if fi.ModTime().After(lastUse[e.Digest]) {
			lastUse[e.Digest] = fi.ModTime()
		}
	})
	if err != nil {
		return nil, err
	}

	refs := map[string][]string{}    // by image digest
	platforms := map[string]string{} // by image digest, as pulled
	err = s.eachRecord(refsDir, func(path string) {
		var rr refRecord
		fi, err := os.Stat(path)
		if err != nil || readRecord(path, &rr) != nil {
			return
		}
		refs[rr.Digest] = append(refs[rr.Digest], rr.Ref)
		platforms[rr.Digest] = rr.Platform
		if fi.ModTime().After(lastUse[rr.Digest]) {
			lastUse[rr.Digest] = fi.ModTime()
		}
	})
	if err != nil {
		return nil, err
	}
	err = s.eachRecord(imagesDir, func(path string) {
		var ir imageRecord
		fi, err := os.Stat(path)
		if err != nil || readRecord(path, &ir) != nil {
			return
		}
		size, _ := sizeOf(ir.Layers)
		r := refs[ir.Digest]
		slices.Sort(r)
		last := lastUse[ir.Digest]
		if fi.ModTime().After(last) {
			last = fi.ModTime()
		}
		platform := ir.Platform
		if platform == "" { // the image's config names none
			platform = platforms[ir.Digest]
		}
		inv.Images = append(inv.Images, ImageInfo{Digest: ir.Digest, Platform: platform, Refs: r,
			Layers: ir.Layers, Size: size, LastUse: last})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(inv.Images, func(a, b ImageInfo) int {
		if c := b.LastUse.Compare(a.LastUse); c != 0 {
			return c
		}
		return strings.Compare(a.Digest, b.Digest)
	})
	slices.SortFunc(inv.Envs, func(a, b EnvInfo) int {
		if c := b.LastUse.Compare(a.LastUse); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return inv, nil
}

// layerSizes measures every layer directory, by hex name.
func (s *Store) layerSizes() (map[string]int64, error) {
	des, err := os.ReadDir(s.path(layersDir))
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	sizes := make(map[string]int64, len(des))
	for _, de := range des {
		if !de.IsDir() {
			continue
		}
		// A tree this user cannot fully read (subordinate ids) counts
		// what it can.
		sz, _ := diskUsage(s.path(layersDir, de.Name()), nil)
		sizes[de.Name()] = sz
	}
	return sizes, nil
}

// inode identifies a file, so that hard links count once.
type inode struct{ dev, ino uint64 }

// diskUsage returns the bytes on disk of the tree at root, as du -s counts
// them: allocated blocks, hard links once (across calls sharing seen, when
// not nil). It never follows symbolic links. An unreadable directory is
// skipped, its error returned after the walk with the total so far.
func diskUsage(root string, seen map[inode]bool) (int64, error) {
	if seen == nil {
		seen = map[inode]bool{}
	}
	var total int64
	var firstErr error
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			if d != nil && d.IsDir() && path != root {
				return fs.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			total += fi.Size()
			return nil
		}
		if st.Nlink > 1 && !fi.IsDir() {
			id := inode{uint64(st.Dev), st.Ino}
			if seen[id] {
				return nil
			}
			seen[id] = true
		}
		total += st.Blocks * 512
		return nil
	})
	if err != nil {
		return total, err
	}
	return total, firstErr
}

// lookupDigest finds an image by its manifest digest, for a reference
// pinned by digest (repo@sha256:…) that has no ref record of its own: an
// image pulled by tag is then found by the digest the tag resolved to,
// without the network. A content digest names the same image in any
// repository, so the record of any pull of it will do.
func (s *Store) lookupDigest(written string, r Reference, platform string) (*Snapshot, bool, error) {
	d, ok := r.Name.(name.Digest)
	if r.Kind != KindRegistry || !ok {
		return nil, false, nil
	}
	hex, err := digestHex(d.DigestStr())
	if err != nil {
		return nil, false, nil
	}
	var ir imageRecord
	if err := readRecord(s.path(imagesDir, hex+".json"), &ir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("looking up %s: %w", written, err)
	}
	// An image whose config names no platform was pulled for the host's.
	if ir.Platform != platform && ir.Platform != "" {
		return nil, false, nil
	}
	snap, err := s.snapshotOf(written, &ir)
	return snap, err == nil, err
}
