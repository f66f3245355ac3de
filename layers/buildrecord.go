package layers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// The store's record directories of builds.
const (
	envsDir     = "envs"     // envs/<top-key-hex>.json: a built environment; its mtime is its last use
	projectsDir = "projects" // projects/<project-id>.json: where a project lives, so gc finds its nook.lock
)

// ErrNotBuilt means the store holds no complete environment for a key: never
// built, or one of its layers has been removed since.
var ErrNotBuilt = errors.New("not built")

// EnvRecord is a built environment (envs/<key-hex>.json), keyed by its top
// layer's key.
type EnvRecord struct {
	Key        string      `json:"key"`            // the top layer's key
	Ref        string      `json:"ref"`            // the image as nook.toml names it
	Digest     string      `json:"digest"`         // the image's manifest digest
	Platform   string      `json:"platform"`       // "linux/amd64"
	ProjectDir string      `json:"projectDir"`     // the project that built it last
	Role       string      `json:"role,omitempty"` // the role whose own environment it is in that project; "" for the project's
	Layers     []string    `json:"layers"`         // layer ids, bottom first: the image's DiffIDs, then the step keys
	Config     ImageConfig `json:"config"`         // the image's config
}

// ProjectRecord says where a project lives (projects/<id>.json).
type ProjectRecord struct {
	ID   string `json:"id"`   // env.Env.ProjectID
	Dir  string `json:"dir"`  // the project directory
	File string `json:"file"` // its nook.toml; nook.lock is beside it
}

// RecordEnv writes the record of a built environment. Every layer it names
// should be in the store already.
func (s *Store) RecordEnv(e EnvRecord) error {
	hex, err := digestHex(e.Key)
	if err != nil {
		return fmt.Errorf("recording environment %s: %w", e.Key, err)
	}
	for _, l := range e.Layers {
		if _, err := digestHex(l); err != nil {
			return fmt.Errorf("recording environment %s: layer %w", e.Key, err)
		}
	}
	if err := s.makeDir(envsDir); err != nil {
		return fmt.Errorf("recording environment %s: %w", e.Key, err)
	}
	if err := writeRecord(s.path(envsDir, hex+".json"), &e); err != nil {
		return fmt.Errorf("recording environment %s: %w", e.Key, err)
	}
	return nil
}

// LookupEnv returns the snapshot of the environment whose top layer is top:
// one small record read, a stat per layer, and one utimensat on the record
// to note its last use (gc keeps what was used recently). Lowers are
// absolute, bottom first; Config is the image's. The error is ErrNotBuilt
// (errors.Is) when the record is absent or a layer is missing.
func (s *Store) LookupEnv(top string) (*Snapshot, error) {
	hex, err := digestHex(top)
	if err != nil {
		return nil, fmt.Errorf("looking up environment %s: %w", top, err)
	}
	path := s.path(envsDir, hex+".json")
	var e EnvRecord
	if err := readRecord(path, &e); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("environment %s: %w", top, ErrNotBuilt)
		}
		return nil, fmt.Errorf("looking up environment %s: %w", top, err)
	}
	lowers, err := s.envLowers(&e)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		return nil, fmt.Errorf("looking up environment %s: %w", top, err)
	}
	return &Snapshot{Ref: e.Ref, Digest: e.Digest, Lowers: lowers, Config: e.Config}, nil
}

// envLowers turns an environment's layer ids into layer directories, each
// checked by a stat and stacked once (stackOnce).
func (s *Store) envLowers(e *EnvRecord) ([]string, error) {
	ids := stackOnce(e.Layers)
	lowers := make([]string, 0, len(ids))
	for _, l := range ids {
		dir := s.LayerPath(l)
		if dir == "" {
			return nil, fmt.Errorf("looking up environment %s: layer %q is not a sha256 digest", e.Key, l)
		}
		if _, err := os.Stat(dir); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("environment %s: %w (layer %s is missing from the store)", e.Key, ErrNotBuilt, l)
			}
			return nil, fmt.Errorf("looking up environment %s: %w", e.Key, err)
		}
		lowers = append(lowers, dir)
	}
	return lowers, nil
}

// RecordProject notes where project id lives, so that gc finds its nook.lock
// (beside file). It writes only when the record changes.
func (s *Store) RecordProject(id, dir, file string) error {
	if !validName(id) {
		return fmt.Errorf("recording project %q: not a project id", id)
	}
	if err := s.makeDir(projectsDir); err != nil {
		return fmt.Errorf("recording project %s: %w", id, err)
	}
	path := s.path(projectsDir, id+".json")
	want := ProjectRecord{ID: id, Dir: dir, File: file}
	var have ProjectRecord
	if err := readRecord(path, &have); err == nil && have == want {
		return nil
	}
	if err := writeRecord(path, &want); err != nil {
		return fmt.Errorf("recording project %s: %w", id, err)
	}
	return nil
}

// Projects returns the recorded projects, in no particular order. A record
// that cannot be read is skipped.
func (s *Store) Projects() ([]ProjectRecord, error) {
	var out []ProjectRecord
	err := s.eachRecord(projectsDir, func(path string) {
		var p ProjectRecord
		if readRecord(path, &p) == nil && p.ID != "" {
			out = append(out, p)
		}
	})
	return out, err
}

// eachRecord calls fn with the path of each *.json record in the store
// directory sub (absent: none).
func (s *Store) eachRecord(sub string, fn func(path string)) error {
	des, err := os.ReadDir(s.path(sub))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("listing %s: %w", s.path(sub), err)
	}
	for _, de := range des {
		if !de.Type().IsRegular() || !strings.HasSuffix(de.Name(), ".json") || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		fn(s.path(sub, de.Name()))
	}
	return nil
}
