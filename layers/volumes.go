package layers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// VolumeInfo is a named volume in the store (volumes/<project-id>/<name>).
type VolumeInfo struct {
	Project    string `json:"project"`    // the project id
	ProjectDir string `json:"projectDir"` // from the project's record; "" when unknown
	Name       string `json:"name"`
	Path       string `json:"path"`
	Size       int64  `json:"size"` // bytes on disk
}

// ErrNoVolume means a project has no volume of that name.
var ErrNoVolume = errors.New("no such volume")

// Volumes lists the volumes of project (an env.Env.ProjectID), or of every
// project when project is "", sorted by project directory, then name.
func (s *Store) Volumes(project string) ([]VolumeInfo, error) {
	dirs := map[string]string{}
	ps, err := s.Projects()
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		dirs[p.ID] = p.Dir
	}
	var ids []string
	if project != "" {
		if !validName(project) {
			return nil, fmt.Errorf("listing volumes: %q is not a project id", project)
		}
		ids = []string{project}
	} else {
		des, err := os.ReadDir(s.path(volsDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("listing volumes: %w", err)
		}
		for _, de := range des {
			if de.IsDir() {
				ids = append(ids, de.Name())
			}
		}
	}
	var out []VolumeInfo
	for _, id := range ids {
		des, err := os.ReadDir(s.VolumesDir(id))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("listing volumes of %s: %w", id, err)
		}
		for _, de := range des {
			if !de.IsDir() {
				continue
			}
			path := s.path(volsDir, id, de.Name())
			size, _ := diskUsage(path, nil)
			out = append(out, VolumeInfo{Project: id, ProjectDir: dirs[id], Name: de.Name(), Path: path, Size: size})
		}
	}
	slices.SortFunc(out, func(a, b VolumeInfo) int {
		if c := strings.Compare(a.ProjectDir, b.ProjectDir); c != 0 {
			return c
		}
		if c := strings.Compare(a.Project, b.Project); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// RemoveVolume removes project's volume name and everything in it, with
// remove (nil: the store's own removal; the CLI passes rootless.RemoveAll for
// volumes that hold subordinate ids). It returns the bytes freed. The error
// is ErrNoVolume (errors.Is) when there is no such volume.
func (s *Store) RemoveVolume(project, name string, remove func(string) error) (int64, error) {
	if !validName(project) {
		return 0, fmt.Errorf("removing volume %s: %q is not a project id", name, project)
	}
	if !validName(name) {
		return 0, fmt.Errorf("removing volume %q: not a volume name", name)
	}
	path := s.path(volsDir, project, name)
	fi, err := os.Lstat(path)
	if err != nil || !fi.IsDir() {
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return 0, &hintError{err: fmt.Errorf("removing volume %s: %w", name, ErrNoVolume), hint: "`nook volume ls` lists this project's volumes"}
		}
		return 0, fmt.Errorf("removing volume %s: %w", name, err)
	}
	if remove == nil {
		remove = removeTree
	}
	size, _ := diskUsage(path, nil)
	if err := remove(path); err != nil {
		return 0, fmt.Errorf("removing volume %s: %w", name, err)
	}
	return size, nil
}

// validName reports whether s can name one directory entry.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}
