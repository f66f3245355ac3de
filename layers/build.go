package layers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// builtDir holds built/<key-hex>.json: the record of a layer made by a build
// step (the layer itself is layers/<key-hex>/, beside the unpacked ones).
const builtDir = "built"

// Kinds of built layer.
const (
	KindPackages = "packages" // the one layer of the declared OS packages
	KindSetup    = "setup"    // one layer per setup step
)

// LayerKey is a built layer's cache key: sha256 over parent, kind, text, the
// sorted env and the id-map mode, each NUL-separated. parent is the key of
// the layer below; for the first step it is "image:" + platform + "@" +
// manifest digest. The result is "sha256:<hex>", so a key names a layer
// directory as a DiffID does; the two never collide.
func LayerKey(parent, kind, text string, env []string, idmap string) string {
	sorted := slices.Clone(env)
	slices.Sort(sorted)
	h := sha256.New()
	// The number of env entries keeps the fields apart: no env entry can
	// then pass for the id-map mode.
	for _, f := range append([]string{"nook-layer-v1", parent, kind, text, strconv.Itoa(len(sorted))}, append(sorted, idmap)...) {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// waitingForLayer, when set (by tests), is called when MakeLayer is about to
// wait for another maker's lock.
var waitingForLayer func(key string)

// BaseKey is the parent key of an environment's first built layer: the
// image's manifest digest on a platform.
func BaseKey(platform, digest string) string {
	return "image:" + platform + "@" + digest
}

// BuiltLayer is the record of a layer made by a build step
// (built/<key-hex>.json).
type BuiltLayer struct {
	Key     string    `json:"key"`     // "sha256:<hex>", from LayerKey
	Parent  string    `json:"parent"`  // the key below (or BaseKey)
	Kind    string    `json:"kind"`    // KindPackages or KindSetup
	Text    string    `json:"text"`    // the step as written (packages: the install command or list)
	Created time.Time `json:"created"` // when it was made
	Size    int64     `json:"size"`    // bytes on disk when it was made
}

// HasLayer reports whether the layer key (a built key or a DiffID) is in the
// store: one stat.
func (s *Store) HasLayer(key string) bool {
	p := s.LayerPath(key)
	if p == "" {
		return false
	}
	_, err := os.Stat(p)
	return err == nil
}

// LayerPath is where the layer with this key (a DiffID or a built key)
// lives, whether or not it exists yet; "" when key is not "sha256:<64 hex>".
func (s *Store) LayerPath(key string) string {
	hex, err := digestHex(key)
	if err != nil {
		return ""
	}
	return s.path(layersDir, hex)
}

// BuiltLayerRecord reads the record of the built layer key.
func (s *Store) BuiltLayerRecord(key string) (*BuiltLayer, error) {
	hex, err := digestHex(key)
	if err != nil {
		return nil, fmt.Errorf("reading built layer %s: %w", key, err)
	}
	var b BuiltLayer
	if err := readRecord(s.path(builtDir, hex+".json"), &b); err != nil {
		return nil, fmt.Errorf("reading built layer %s: %w", key, err)
	}
	return &b, nil
}

// MakeLayer makes the built layer key once, under a file lock shared with
// other nook processes: when the layer is there already, or another process
// made it while this one waited for the lock, it returns made=false at once.
// Otherwise it creates a fresh directory tmp/<hex>.<random>/ holding "upper"
// and "work" on the store's file system, calls fill(upper, work) — the build
// step runs there — and on success syncs the file system, writes the built
// record rec (Key, Created and Size filled in) and renames upper to
// layers/<hex>. On error, or when ctx ends, it removes the temporary
// directory with remove (nil: the store's own removal; a build passes
// rootless.RemoveAll for trees that hold subordinate ids) and returns the
// error. Directories under tmp/ left by makers that died (kill -9) are removed
// by the next MakeLayer or Pull: a free lock tells that nobody works there.
func (s *Store) MakeLayer(ctx context.Context, key string, rec BuiltLayer, fill func(upper, work string) error, remove func(string) error) (made bool, err error) {
	hex, err := digestHex(key)
	if err != nil {
		return false, fmt.Errorf("making layer %s: %w", key, err)
	}
	if remove == nil {
		remove = removeTree
	}
	if s.HasLayer(key) {
		return false, nil
	}
	if err := s.makeDir(builtDir); err != nil {
		return false, fmt.Errorf("making layer %s: %w", key, err)
	}
	lockPath := s.path(locksDir, hex+".lock")
	lock, ok, err := tryLockFile(lockPath)
	if err != nil {
		return false, fmt.Errorf("making layer %s: %w", key, err)
	}
	if !ok {
		if waitingForLayer != nil {
			waitingForLayer(key)
		}
		if lock, err = lockFile(ctx, lockPath); err != nil {
			return false, fmt.Errorf("making layer %s: waiting for another nook: %w", key, err)
		}
	}
	defer lock.unlock()
	if s.HasLayer(key) { // made by whoever held the lock
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("making layer %s: %w", key, err)
	}
	// This key's lock is ours, so what tmp/ holds for it is a dead maker's.
	if err := s.removeTmpOf(hex, remove); err != nil {
		return false, fmt.Errorf("making layer %s: %w", key, err)
	}
	s.removeStaleTmp()

	tmp, err := os.MkdirTemp(s.path(tmpDir), hex+".")
	if err != nil {
		return false, fmt.Errorf("making layer %s: %w", key, err)
	}
	upper, work := filepath.Join(tmp, "upper"), filepath.Join(tmp, "work")
	err = s.fillLayer(ctx, upper, work, fill)
	if err == nil {
		rec.Key = key
		if rec.Created.IsZero() {
			rec.Created = time.Now().UTC()
		}
		if size, serr := diskUsage(upper, nil); serr == nil {
			rec.Size = size
		}
		// The record first: a record without its layer is harmless (the
		// layer is made again and the record rewritten), a layer without
		// its record would be nameless to images and gc.
		err = writeRecord(s.path(builtDir, hex+".json"), &rec)
	}
	if err == nil {
		err = os.Rename(upper, s.path(layersDir, hex))
	}
	if err != nil {
		if rerr := remove(tmp); rerr != nil {
			err = errors.Join(err, fmt.Errorf("cleaning up: %w", rerr))
		}
		return false, fmt.Errorf("making layer %s: %w", key, err)
	}
	// The layer is in place; work/ is overlayfs's scratch. What cannot be
	// removed now is stale and goes with the next MakeLayer or gc.
	_ = remove(tmp)
	return true, nil
}

// fillLayer makes upper and work, runs fill and syncs what it wrote.
func (s *Store) fillLayer(ctx context.Context, upper, work string, fill func(upper, work string) error) error {
	for _, d := range []string{upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if err := fill(upper, work); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return syncDir(upper)
}

// removeTmpOf removes every tmp/<hex>.* directory. The caller holds hex's
// lock.
func (s *Store) removeTmpOf(hex string, remove func(string) error) error {
	des, err := os.ReadDir(s.path(tmpDir))
	if err != nil {
		return err
	}
	for _, de := range des {
		if strings.HasPrefix(de.Name(), hex+".") {
			if err := remove(s.path(tmpDir, de.Name())); err != nil {
				return fmt.Errorf("removing a stale build directory: %w", err)
			}
		}
	}
	return nil
}
