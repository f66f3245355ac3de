package layers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// resolvedDir holds resolved/<key-hex>.json: what a packages step
// installed, found by the key the step has with nothing pinned.
const resolvedDir = "resolved"

// Resolution records what a packages step installed, so that a build of
// the same packages on the same image (same manager, env and id map),
// in any project and with no nook.lock, finds the layer without running
// the package manager (SPEC §4).
type Resolution struct {
	Key      string            `json:"key"`      // the step's key with nothing pinned: what the record is found by
	Layer    string            `json:"layer"`    // the key of the layer the step made
	Manager  string            `json:"manager"`  // "apt-get", …
	Packages map[string]string `json:"packages"` // every package it installed, with its version
	Created  time.Time         `json:"created"`
}

// RecordResolution writes r, replacing an earlier record of its key.
func (s *Store) RecordResolution(r Resolution) error {
	hex, err := digestHex(r.Key)
	if err != nil {
		return fmt.Errorf("recording packages of %s: %w", r.Key, err)
	}
	if _, err := digestHex(r.Layer); err != nil {
		return fmt.Errorf("recording packages of %s: layer %w", r.Key, err)
	}
	if r.Created.IsZero() {
		r.Created = time.Now().UTC()
	}
	if err := s.makeDir(resolvedDir); err != nil {
		return fmt.Errorf("recording packages of %s: %w", r.Key, err)
	}
	if err := writeRecord(s.path(resolvedDir, hex+".json"), &r); err != nil {
		return fmt.Errorf("recording packages of %s: %w", r.Key, err)
	}
	return nil
}

// LookupResolution reads the record of key when there is one whose layer
// is in the store; (nil, nil) when there is none.
func (s *Store) LookupResolution(key string) (*Resolution, error) {
	hex, err := digestHex(key)
	if err != nil {
		return nil, fmt.Errorf("looking up packages of %s: %w", key, err)
	}
	var r Resolution
	if err := readRecord(s.path(resolvedDir, hex+".json"), &r); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("looking up packages of %s: %w", key, err)
	}
	if r.Key != key || !s.HasLayer(r.Layer) {
		return nil, nil
	}
	return &r, nil
}

// resolutions removes the records whose layer is not in the store
// (removed just now, or by an earlier gc).
func (g *collector) resolutions(grace time.Time) error {
	return g.s.eachRecord(resolvedDir, func(path string) {
		if changedAfter(path, grace) {
			return
		}
		var r Resolution
		if readRecord(path, &r) == nil {
			hex := strings.TrimPrefix(r.Layer, "sha256:")
			if g.keepLayers[hex] {
				return
			}
			if _, err := os.Lstat(g.s.path(layersDir, hex)); err == nil && !g.removedLayer(hex) {
				return
			}
		}
		name := r.Layer // what it led to
		if name == "" {
			name = filepath.Base(path)
		}
		g.removeFile("resolved", name, path)
	})
}
