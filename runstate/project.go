package runstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Role states.
const (
	Starting   = "starting"   // being started: pulled, planned, its ports checked
	Running    = "running"    // its process runs (and is ready, when it has a check)
	Restarting = "restarting" // ended; its restart policy starts it again after a back-off
	Exited     = "exited"     // ended on its own; Exit holds the status
	Stopped    = "stopped"    // ended by nook: `nook stop`, Ctrl-C, the end of `nook up`
	Failed     = "failed"     // could not be run; Error says why
)

// Active reports whether a role in state s has (or is about to have) a
// process: such a record is only true while its owner lives.
func Active(s string) bool {
	return s == Starting || s == Running || s == Restarting
}

// Role is the record of one run of a role.
type Role struct {
	Role       string    `json:"role"`
	Project    string    `json:"project"`       // project name
	ProjectDir string    `json:"projectDir"`    // directory holding nook.toml
	Via        string    `json:"via"`           // "up" (a supervisor) or "run" (nook run)
	Owner      Owner     `json:"owner"`         // the nook process that runs the role
	Pid        int       `json:"pid,omitempty"` // the role's init, when known
	State      string    `json:"state"`
	Ports      []string  `json:"ports,omitempty"` // as in nook.toml: [HOST_IP:]HOST_PORT:ROLE_PORT/PROTO
	Network    string    `json:"network"`
	Started    time.Time `json:"started"` // when the current (or last) run started
	Restarts   int       `json:"restarts"`
	Exit       *int      `json:"exit,omitempty"`  // the last run's exit status
	Error      string    `json:"error,omitempty"` // why it could not be run
	// Grace is the time the owner gives the role between SIGTERM and
	// SIGKILL when asked to stop it (zero: unknown); `nook stop` kills
	// an owner of `nook run` that has not ended by then.
	Grace time.Duration `json:"grace,omitempty"`
}

// file is the record's name in roles/: a supervisor keeps one record per
// role; each `nook run` has its own.
func (r *Role) file() string {
	if r.Via == "run" {
		return fmt.Sprintf("%s.run-%d.json", r.Role, r.Owner.Pid)
	}
	return r.Role + ".json"
}

// Supervisor is the record of a project's `nook up`.
type Supervisor struct {
	Owner      Owner     `json:"owner"`
	Project    string    `json:"project"`
	ProjectDir string    `json:"projectDir"`
	Roles      []string  `json:"roles"`    // the roles it runs, dependencies first
	Detached   bool      `json:"detached"` // `nook up -d`
	Control    string    `json:"control"`  // its control socket
	Started    time.Time `json:"started"`
}

// Project is the run state of one project: <RunDir>/projects/<id>.
type Project struct {
	ID  string
	Dir string
}

// Open returns the run state of project id under runDir, creating its
// directories (mode 0700) when missing.
func Open(runDir, id string) (*Project, error) {
	p := Lookup(runDir, id)
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return nil, fmt.Errorf("making the run-state directory %s: %w", runDir, err)
	}
	for _, d := range []string{filepath.Join(runDir, "projects"), p.Dir, p.rolesDir(), p.logsDir()} {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("making the run-state directory %s: %w", d, err)
		}
	}
	return p, nil
}

// Lookup returns the run state of project id under runDir without
// creating anything: a project that never ran has no records.
func Lookup(runDir, id string) *Project {
	return &Project{ID: id, Dir: filepath.Join(runDir, "projects", id)}
}

// List returns the projects that have run state under runDir.
func List(runDir string) ([]*Project, error) {
	entries, err := os.ReadDir(filepath.Join(runDir, "projects"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the run state: %w", err)
	}
	var out []*Project
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, Lookup(runDir, e.Name()))
		}
	}
	return out, nil
}

func (p *Project) rolesDir() string { return filepath.Join(p.Dir, "roles") }
func (p *Project) logsDir() string  { return filepath.Join(p.Dir, "logs") }

// RolesDir is the directory of the role records, for watching it.
func (p *Project) RolesDir() string { return p.rolesDir() }

// LogPath is the log file of a role run by a supervisor.
func (p *Project) LogPath(role string) string {
	return filepath.Join(p.logsDir(), role+".log")
}

// ControlPath is where a supervisor of this project listens.
func (p *Project) ControlPath() string {
	return filepath.Join(p.Dir, "control.sock")
}

// WriteRole writes r's record atomically.
func (p *Project) WriteRole(r *Role) error {
	return writeJSON(filepath.Join(p.rolesDir(), r.file()), r)
}

// RemoveRole removes r's record.
func (p *Project) RemoveRole(r *Role) error {
	err := os.Remove(filepath.Join(p.rolesDir(), r.file()))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the record of role %s: %w", r.Role, err)
	}
	return nil
}

// Roles reads the role records, sorted by role. A record that says its
// role is active while its owner is gone is stale: Roles removes it and
// leaves it out.
func (p *Project) Roles() ([]*Role, error) {
	entries, err := os.ReadDir(p.rolesDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the role records of project %s: %w", p.ID, err)
	}
	var out []*Role
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(p.rolesDir(), e.Name())
		var r Role
		if err := readJSON(path, &r); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			return nil, err
		}
		if Active(r.State) && !r.Owner.Alive() {
			os.Remove(path)
			continue
		}
		out = append(out, &r)
	}
	slices.SortStableFunc(out, func(a, b *Role) int {
		if c := strings.Compare(a.Role, b.Role); c != 0 {
			return c
		}
		return a.Started.Compare(b.Started)
	})
	return out, nil
}

// WriteSupervisor writes the supervisor record atomically.
func (p *Project) WriteSupervisor(s *Supervisor) error {
	return writeJSON(filepath.Join(p.Dir, "supervisor.json"), s)
}

// Supervisor reads the supervisor record: nil when there is none or its
// process is gone (then the record and its socket are removed).
func (p *Project) Supervisor() (*Supervisor, error) {
	path := filepath.Join(p.Dir, "supervisor.json")
	var s Supervisor
	if err := readJSON(path, &s); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	if !s.Owner.Alive() {
		os.Remove(path)
		if s.Control != "" {
			os.Remove(s.Control)
		}
		return nil, nil
	}
	return &s, nil
}

// RemoveSupervisor removes the supervisor record if owner wrote it.
func (p *Project) RemoveSupervisor(owner Owner) error {
	path := filepath.Join(p.Dir, "supervisor.json")
	var s Supervisor
	if err := readJSON(path, &s); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if s.Owner != owner {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the supervisor record of project %s: %w", p.ID, err)
	}
	return nil
}

// LockedError is returned by Lock when another process holds the lock.
type LockedError struct{ Path string }

// Error names the lock file.
func (e *LockedError) Error() string { return fmt.Sprintf("%s is locked by another nook up", e.Path) }

// Lock takes the project's supervisor lock without waiting: one `nook up`
// per project at a time. The lock lasts until unlock is called or the
// process ends, however it ends. It returns a *LockedError when taken.
func (p *Project) Lock() (unlock func(), err error) {
	path := filepath.Join(p.Dir, "up.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &LockedError{Path: path}
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("renaming %s to %s: %w", tmp, path, err)
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}
