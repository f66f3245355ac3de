package project

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/runstate"
	"github.com/nookenv/nook/supervise"
)

// StartDependencies gets what role needs before it runs, as nook run does
// (SPEC §5) and as `docker compose run` starts a service's dependencies:
// its one-shot dependencies run to success, in order, on the caller's
// output; its long-running ones are joined where they run already (their
// own dependencies are then theirs) and started where not, in the
// background, waiting for each to be ready (its `ready` port, else one
// second of running) before what depends on it. Started roles write to
// their log (`nook logs ROLE`) and are listed by nook ps as run by this
// process. stop ends what StartDependencies started (SIGTERM, o.StopTimeout,
// SIGKILL) and waits for it; call it once role has ended. o.Pod is the
// pod connection the command's roles share.
func (p *Project) StartDependencies(ctx context.Context, role *env.Role, o RunOptions) (stop func(), err error) {
	if len(role.DependsOn) == 0 {
		return func() {}, nil // the common run: no run state to read
	}
	e := p.Env
	proj, err := p.runState()
	if err != nil {
		return nil, err
	}
	running, err := runningRoles(proj)
	if err != nil {
		return nil, err
	}
	needed := p.neededDependencies(role, running)
	if len(needed) == 0 {
		return func() {}, nil
	}
	var long []string
	for _, n := range needed {
		if e.Roles[n].LongRunning() {
			long = append(long, n)
		}
	}
	if err := p.CheckPorts(long); err != nil {
		return nil, err
	}
	if len(long) > 0 {
		p.Printer.Line(fmt.Sprintf("nook: run: starting %s for %s (their output: nook logs ROLE)", joinNames(long), role.Name))
	}
	d := &depRun{p: p, proj: proj, role: role.Name, opt: o, pending: map[string]bool{}, logs: map[string]*os.File{},
		settled: make(chan struct{}), failed: make(chan error, 1)}
	var sroles []supervise.Role
	for _, n := range needed {
		r := e.Roles[n]
		d.pending[n] = true
		var deps []string
		for _, dep := range r.DependsOn {
			if slices.Contains(needed, dep) {
				deps = append(deps, dep)
			}
		}
		sroles = append(sroles, supervise.Role{Name: n, LongRunning: r.LongRunning(), DependsOn: deps,
			Restart: r.Restart, Ready: d.starts.check(e, r)})
	}
	ctx, cancel := context.WithCancel(ctx)
	sv, err := supervise.NewWithOptions(ctx, d, sroles, supervise.Options{Report: d.event, Ready: d.ready})
	if err != nil {
		cancel()
		return nil, err
	}
	stop = func() {
		cancel()
		sv.Stop()
		d.closeLogs()
	}
	sv.StartAll()
	select {
	case <-d.settled:
		return stop, nil
	case err := <-d.failed:
		stop()
		return nil, err
	}
}

// runningRoles are the roles of the project that run now, by nook up or
// nook run.
func runningRoles(proj *runstate.Project) (map[string]bool, error) {
	records, err := proj.Roles()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range records {
		if runstate.Active(r.State) {
			out[r.Role] = true
		}
	}
	return out, nil
}

// neededDependencies are role's dependencies, direct and indirect, that
// must run before it, in the order they must start: every one but the
// long-running ones that run already and what only those need.
func (p *Project) neededDependencies(role *env.Role, running map[string]bool) []string {
	e := p.Env
	need := map[string]bool{}
	var walk func(r *env.Role)
	walk = func(r *env.Role) {
		for _, d := range r.DependsOn {
			dep := e.Roles[d]
			if need[d] || dep.LongRunning() && running[d] {
				continue
			}
			need[d] = true
			walk(dep)
		}
	}
	walk(role)
	all, _ := p.WithDependencies([]string{role.Name}) // env validated every name
	var out []string
	for _, n := range all {
		if need[n] {
			out = append(out, n)
		}
	}
	return out
}

// DependencyError is a dependency that failed before the role could run.
type DependencyError struct {
	Role, Dependency string
	Exit             int    // its exit status; 0 when it could not be run or did not stay
	Err              error  // why it could not be run, or nil
	Log              string // its log file, for a long-running one
}

func (e *DependencyError) Error() string {
	var s string
	switch {
	case e.Err != nil:
		s = fmt.Sprintf("dependency %s of %s could not be run: %v", e.Dependency, e.Role, e.Err)
	case e.Exit == 0:
		s = fmt.Sprintf("dependency %s of %s exited with status 0 as it started", e.Dependency, e.Role)
	default:
		s = fmt.Sprintf("dependency %s of %s exited with status %d", e.Dependency, e.Role, e.Exit)
	}
	return s
}

func (e *DependencyError) Unwrap() error { return e.Err }

// ExitCode is the dependency's status, which nook run ends with.
func (e *DependencyError) ExitCode() int {
	if e.Err != nil || e.Exit == 0 {
		return exitNook
	}
	return e.Exit
}

// depRun is the run of a role's dependencies: their supervisor's starter,
// and what the caller waits for.
type depRun struct {
	p      *Project
	proj   *runstate.Project
	role   string // the role they are the dependencies of
	opt    RunOptions
	starts starts

	mu       sync.Mutex
	pending  map[string]bool // not ready (long-running) or not succeeded (one-shot) yet
	logs     map[string]*os.File
	settled  chan struct{} // closed once pending is empty
	failed   chan error    // the first failure while some are pending
	finished bool          // settled or failed: later events are the supervisor's own
}

// Start runs one dependency: a one-shot one on the caller's output, a
// long-running one in the background into its log, recorded as run by
// this process while it runs.
func (d *depRun) Start(ctx context.Context, name string) (int, error) {
	e := d.p.Env
	r := e.Roles[name]
	long := r.LongRunning()
	l := d.p.launch(ctx, r, RunOptions{StopTimeout: d.opt.StopTimeout, Pod: d.opt.Pod, Background: long})
	l.portsChecked = true
	started, forget := d.starts.notifier(ctx)
	defer forget()
	l.started = started
	if !long {
		return l.start()
	}
	out, err := d.log(name)
	if err != nil {
		return exitNook, err
	}
	l.out = out
	return l.run()
}

// log is the dependency's log file, opened afresh for this nook run.
func (d *depRun) log(name string) (*os.File, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f := d.logs[name]; f != nil {
		return f, nil
	}
	f, err := d.proj.CreateLog(name)
	if err != nil {
		return nil, err
	}
	d.logs[name] = f
	return f, nil
}

func (d *depRun) closeLogs() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.logs {
		f.Close()
	}
}

// ready takes a long-running dependency off the pending ones.
func (d *depRun) ready(name string) {
	if d.p.Env.Roles[name].LongRunning() {
		d.done(name)
	}
}

// event takes a one-shot dependency that succeeded off the pending ones,
// and fails the wait for one that failed or ended before it was ready
// (even when its restart policy starts it again).
func (d *depRun) event(ev supervise.Event) {
	if ev.Stopped {
		return
	}
	if ev.Skipped == "" && ev.Err == nil && ev.Exit == 0 && !d.p.Env.Roles[ev.Role].LongRunning() {
		d.done(ev.Role)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finished || !d.pending[ev.Role] {
		if ev.Err != nil || ev.Exit != 0 {
			d.p.Printer.Line(fmt.Sprintf("nook: run: %s, a dependency of %s, ended: %s", ev.Role, d.role, describeEnd(ev)))
		}
		return
	}
	if ev.Skipped != "" {
		return // its dependency's failure is reported
	}
	err := &DependencyError{Role: d.role, Dependency: ev.Role, Exit: ev.Exit, Err: ev.Err}
	if d.p.Env.Roles[ev.Role].LongRunning() {
		err.Log = d.proj.LogPath(ev.Role)
	}
	d.finished = true
	d.failed <- err
}

// done takes name off the pending dependencies.
func (d *depRun) done(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.pending[name] {
		return
	}
	delete(d.pending, name)
	if len(d.pending) == 0 && !d.finished {
		d.finished = true
		close(d.settled)
	}
}

// describeEnd says how a run ended, for a line of nook's own.
func describeEnd(ev supervise.Event) string {
	if ev.Err != nil {
		return ev.Err.Error()
	}
	return fmt.Sprintf("exit status %d", ev.Exit)
}
