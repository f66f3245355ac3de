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

	"github.com/nookenv/nook/internal/safefile"
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

// runDir is the policy of the run-state directory and every directory
// nook makes in it (SPEC §8a): made one level at a time, each checked to
// be the user's own, private, and no symbolic link, before anything is
// read from it or written to it.
var runDir = safefile.Dir{
	What:      "the run-state directory",
	Access:    safefile.Private,
	Elsewhere: "set XDG_RUNTIME_DIR to a directory of your own, mode 0700 (nook then uses $XDG_RUNTIME_DIR/nook)",
}

// makeDirs makes the run-state directory top (its parent must exist) and
// then the directories below, one level at a time, unless they are there,
// and checks each (safefile.Dir): anything unsafe is a
// *safefile.UnsafeError that names the path and the fix.
func makeDirs(top string, below ...string) error {
	if err := runDir.MakeTop(top); err != nil {
		return err
	}
	for _, d := range below {
		if err := runDir.Make(d); err != nil {
			return err
		}
	}
	return nil
}

// MakeRunDir makes the run-state directory runDir unless it is there, and
// checks it (see makeDirs), before anything in it is read or written.
func MakeRunDir(runDir string) error {
	return makeDirs(runDir)
}

// CheckRunDir checks the run-state directory dir as every command that
// uses it does (MakeRunDir), without making it (nook doctor): exists
// reports whether it is there.
func CheckRunDir(dir string) (exists bool, err error) {
	return runDir.CheckTop(dir)
}

// Open returns the run state of project id under runDir, creating its
// directories (mode 0700) when missing; the run-state directory and each
// of them must be safe (see makeDirs).
func Open(runDir, id string) (*Project, error) {
	p := Lookup(runDir, id)
	if err := makeDirs(runDir, filepath.Join(runDir, "projects"), p.Dir, p.rolesDir(), p.logsDir()); err != nil {
		return nil, err
	}
	return p, nil
}

// PodDir is the run-state directory of the pod of project id.
func PodDir(runDir, id string) string {
	return filepath.Join(runDir, "pods", id)
}

// MakePodDir makes (or checks) the run-state directory of the pod of
// project id, as Open makes a project's.
func MakePodDir(runDir, id string) (string, error) {
	dir := PodDir(runDir, id)
	return dir, makeDirs(runDir, filepath.Join(runDir, "pods"), dir)
}

// Find is Lookup once the run-state directory is found safe (it is made
// when missing, nothing else is).
func Find(runDir, id string) (*Project, error) {
	if err := MakeRunDir(runDir); err != nil {
		return nil, err
	}
	return Lookup(runDir, id), nil
}

// Lookup returns the run state of project id under runDir without
// creating anything: a project that never ran has no records.
func Lookup(runDir, id string) *Project {
	return &Project{ID: id, Dir: filepath.Join(runDir, "projects", id)}
}

// List returns the projects that have run state under runDir, once the
// run-state directory is found safe.
func List(runDir string) ([]*Project, error) {
	if err := MakeRunDir(runDir); err != nil {
		return nil, err
	}
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

// CreateLog creates role's log afresh, for appending (safefile.Replace:
// nothing is written through what was there).
func (p *Project) CreateLog(role string) (*os.File, error) {
	return safefile.Replace("the log of role "+role, p.LogPath(role))
}

// OpenLog opens role's log for reading: a regular file of the user's
// (safefile.OpenOwned).
func (p *Project) OpenLog(role string) (*os.File, error) {
	return safefile.OpenOwned(p.LogPath(role))
}

// SupervisorLogPath is where a detached supervisor's own output goes.
func (p *Project) SupervisorLogPath() string {
	return filepath.Join(p.Dir, "supervisor.log")
}

// CreateSupervisorLog creates the supervisor's log afresh, as CreateLog.
func (p *Project) CreateSupervisorLog() (*os.File, error) {
	return safefile.Replace("the log of nook up", p.SupervisorLogPath())
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
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, safefile.ErrUntrusted) {
				continue // removed meanwhile, or not nook's: never acted on
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
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, safefile.ErrUntrusted) {
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
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, safefile.ErrUntrusted) {
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
	f, err := safefile.OpenLock("the lock of nook up", path)
	if err != nil {
		return nil, err
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

// writeJSON replaces the record at path atomically (safefile.WriteFile).
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return safefile.WriteFile(path, append(data, '\n'))
}

// readJSON reads the record at path, trusting only a regular file of the
// user's (errors.Is safefile.ErrUntrusted otherwise): a record names a
// process that nook stop may kill.
func readJSON(path string, v any) error {
	data, err := safefile.ReadOwned(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}
