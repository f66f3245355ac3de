package rootless

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/nookenv/nook/internal/safefile"
)

// podFile is pod.json, the pod's state for `nook ps` and CheckPorts: who
// the pod is (pid and start time, so that a reused pid is never taken for
// it) and the roles it runs with their published ports.
type podFile struct {
	Pid     int       `json:"pid"`
	Start   uint64    `json:"start"` // field 22 of /proc/PID/stat
	Project string    `json:"project"`
	Name    string    `json:"name"`
	Roles   []podRole `json:"roles"`
}

// podRole is a role running in the pod.
type podRole struct {
	Role  string `json:"role"`
	Pid   int    `json:"pid"` // its nook-init, as the host sees it
	Ports []Port `json:"ports"`
}

// podState keeps pod.json up to date as roles come and go.
type podState struct {
	path string

	mu    sync.Mutex
	file  podFile
	roles map[int]podRole // by nook-init's pid
}

func newPodState(o PodOptions) *podState {
	start, _ := processStartTime(os.Getpid())
	return &podState{
		path:  filepath.Join(o.Dir, podStateFile),
		file:  podFile{Pid: os.Getpid(), Start: start, Project: o.Project, Name: o.Name},
		roles: map[int]podRole{},
	}
}

// add records a role and rewrites the file.
func (s *podState) add(r podRole) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[r.Pid] = r
	return s.writeLocked()
}

// remove forgets the role of nook-init pid and rewrites the file.
func (s *podState) remove(pid int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.roles, pid)
	return s.writeLocked()
}

// write writes the file as it stands.
func (s *podState) write() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked()
}

// writeLocked replaces the file atomically, so that a reader never sees
// half of it.
func (s *podState) writeLocked() error {
	f := s.file
	f.Roles = make([]podRole, 0, len(s.roles))
	for _, r := range s.roles {
		f.Roles = append(f.Roles, r)
	}
	sort.Slice(f.Roles, func(i, j int) bool { return f.Roles[i].Pid < f.Roles[j].Pid })
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", s.path, err)
	}
	return safefile.WriteFile(s.path, append(b, '\n'))
}

// clear removes the file: the pod is ending.
func (s *podState) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	os.Remove(s.path)
}
