// Package project is what nook's commands do with a project: open its
// nook.toml, look up (or build) the environment its roles run in, launch a
// role there, and supervise the roles of `nook up`. cmd/nook keeps the
// flags, the printing and the exit codes; run, exec, shell, build, up,
// watch and export all go through this package.
//
// A Project is opened once per command. It keeps, per role, the
// environment that role runs in, so that the roles of one command look it
// up (or build it) once.
package project

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nookenv/nook/build"
	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/rootless"
	"github.com/nookenv/nook/runstate"
)

// exitNook is the status of nook's own failures (SPEC §5), returned with
// an error as rootless.Run returns it.
const exitNook = 125

// Project is one project's nook.toml, resolved, and the environments of
// its roles as this command looks them up.
type Project struct {
	Env *env.Env // the resolved nook.toml: roles, project id and places

	// Progress receives build output and pull progress (os.Stderr from
	// Open); Printer nook's own lines and the errors of roles that do not
	// end the command.
	Progress io.Writer
	Printer  Printer

	// Vars are KEY=VALUE pairs from the command line (-e), over every
	// role's environment.
	Vars []string

	mu         sync.Mutex
	envs       map[string]*built // by environmentKey
	set        *settings         // nook.lock and the roles' id map, once read (see settings)
	state      *runstate.Project // the run state, once opened (see runState)
	strictLock bool              // a lock that cannot be written is an error (nook build)
}

// Printer prints what a command says along the way. Calls may come from
// several goroutines at once; each must be printed whole.
type Printer interface {
	Line(s string)   // one line of nook's own ("nook: …"), without its newline
	Error(err error) // an error that does not end the command
}

// Open finds, validates and resolves the project's nook.toml: file when
// given (relative to dir), else the nearest one from dir upwards; dir is
// relative to the working directory ("" is the working directory).
func Open(dir, file string) (*Project, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("finding the working directory: %w", err)
	}
	if dir != "" {
		dir = absFrom(cwd, dir)
	} else {
		dir = cwd
	}
	var path string
	if file != "" {
		path = absFrom(dir, file)
	} else if path, err = env.Find(dir); err != nil {
		return nil, err
	}
	cfg, err := env.Load(DisplayPath(cwd, path))
	if err != nil {
		return nil, err
	}
	e, err := env.Resolve(cfg)
	if err != nil {
		return nil, err
	}
	p := &Project{Env: e, Progress: os.Stderr, Printer: stderrPrinter{}}
	for _, w := range cfg.Warnings {
		p.Printer.Line("nook: warning: " + w)
	}
	return p, nil
}

// Environment is the environment a role runs in, built.
type Environment struct {
	Store *layers.Store
	// Of is what the environment is built from: the project's image,
	// packages and setup, or the role's own (Of.Name is then the role's).
	Of *env.Environment
	// Snapshot is the role's root: image, packages, setup. Its Config is
	// the image's config (Entrypoint, Cmd, Env, WorkingDir, User); a role
	// on its own image runs as that config says (RoleProcess).
	Snapshot *layers.Snapshot
	IDMap    rootless.IDMap // the id map the role runs under
}

// Environment looks up role's environment — its own when it sets image,
// else the project's — building what is missing first as `nook build`
// would, once per command: a warm call reads nook.lock and one
// environment record.
func (p *Project) Environment(ctx context.Context, role *env.Role) (*Environment, error) {
	b := p.built(role)
	if err := b.ensure(ctx); err != nil {
		return nil, err
	}
	return &Environment{Store: b.store, Of: b.x, Snapshot: b.snap, IDMap: b.idmap}, nil
}

// environmentKey names the environment role runs in: its own is named
// after it, the project's is "".
func environmentKey(role *env.Role) string {
	if role != nil && role.Own != nil {
		return role.Name
	}
	return ""
}

// EnvironmentKey names the environment role runs in: roles with the same
// key share one environment (nook export makes one image of each).
func (p *Project) EnvironmentKey(role *env.Role) string { return environmentKey(role) }

// built is role's environment as this command holds it, looked up or
// built on first use.
func (p *Project) built(role *env.Role) *built {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := environmentKey(role)
	b := p.envs[k]
	if b == nil {
		if p.envs == nil {
			p.envs = map[string]*built{}
		}
		b = &built{p: p, x: p.Env.EnvironmentOf(role)}
		p.envs[k] = b
	}
	return b
}

// Build builds every environment of the project (`nook build`): its own
// and each role's, several at once where the machine has the cores, with
// Update or Offline as asked, else as every run does first, which is
// nothing when they are there as nook.lock pins them. Entries of roles
// that no longer have an image of their own leave nook.lock.
func (p *Project) Build(ctx context.Context, o BuildOptions) error {
	p.mu.Lock()
	p.strictLock = true
	p.mu.Unlock()
	s, err := p.settings()
	if err != nil {
		return err
	}
	store, err := OpenStore()
	if err != nil {
		return err
	}
	var todo []*env.Environment
	for _, x := range p.Env.Environments() {
		if !o.Update {
			if _, err := build.Lookup(store, p.Env, x, s.lock.Current(), s.lookupIDMap()); err == nil {
				continue
			}
		}
		todo = append(todo, x)
	}
	if err := s.lock.Prune(p.Env, p.Progress); err != nil {
		return err
	}
	return p.buildAll(ctx, store, todo, o)
}

// RunOptions say how to launch a role.
type RunOptions struct {
	Args  []string // appended to the role's command
	Shell bool     // an interactive shell instead of the role's command

	// For roles run alongside others (nook watch): the context of Start
	// stops the process (SIGTERM, then SIGKILL after StopTimeout; zero is
	// rootless's default), and Background gives it no terminal and
	// /dev/null as stdin.
	StopTimeout time.Duration
	Background  bool

	// Out receives the role's stdout and stderr (nil: nook's own).
	Out *os.File

	// Pod is the connection to the project's pod that the roles of one
	// command share (nil: the launch joins the pod for its own run).
	Pod *PodJoiner

	// Via names the command that runs the role in its run-state record
	// (Run): "run" when empty, "watch" for nook watch.
	Via string
}

// Start launches role in its environment, building what is missing, and
// waits for it: the status is the role's, or with an error the status
// nook should end with (125 for nook's own failures).
func (p *Project) Start(ctx context.Context, role *env.Role, o RunOptions) (int, error) {
	return p.launch(ctx, role, o).start()
}

// Run is Start recorded in the run state while it lasts, as nook run, exec,
// shell and watch are, so that nook ps lists it, nook stop can end it and
// a nook run of a role that depends on it joins it.
func (p *Project) Run(ctx context.Context, role *env.Role, o RunOptions) (int, error) {
	return p.launch(ctx, role, o).run()
}

func (p *Project) launch(ctx context.Context, role *env.Role, o RunOptions) launch {
	return launch{env: p.Env, role: role, vars: p.Vars, args: o.Args, shell: o.Shell, ctx: ctx, stopTimeout: o.StopTimeout,
		background: o.Background, out: o.Out, pod: o.Pod, built: p.built(role), print: p.Printer, via: o.Via}
}

// NewPodJoiner is a connection to the project's pod for the roles of one
// command, made when the first of them needs it; Close it at the end.
func (p *Project) NewPodJoiner() *PodJoiner {
	return &PodJoiner{env: p.Env, print: p.Printer}
}

// OpenStore opens the content-addressed store (SPEC §1).
func OpenStore() (*layers.Store, error) {
	return layers.OpenStore(env.StoreDir())
}

// stderrPrinter prints on stderr, one call at a time.
type stderrPrinter struct{}

var stderrMu sync.Mutex

func (stderrPrinter) Line(s string) {
	stderrMu.Lock()
	defer stderrMu.Unlock()
	fmt.Fprintln(os.Stderr, s)
}

func (stderrPrinter) Error(err error) {
	stderrMu.Lock()
	defer stderrMu.Unlock()
	fmt.Fprintf(os.Stderr, "nook: error: %v\n", err)
}

func absFrom(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

// DisplayPath shortens path for messages when it lies below cwd.
func DisplayPath(cwd, path string) string {
	rel, err := filepath.Rel(cwd, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return rel
}
