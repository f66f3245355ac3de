package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/runstate"
	"github.com/nookenv/nook/supervise"
)

// UpOptions say how Up runs.
type UpOptions struct {
	Grace    time.Duration // between SIGTERM and SIGKILL; zero: rootless's default
	Terminal *os.File      // foreground: where the prefixed logs go
	Detached bool          // the supervisor of nook up -d
	// Started, when set, is called once: when every role is started (and
	// ready) or a one-shot role succeeded, or with the first failure.
	Started func(UpStart)
}

// UpStart is what a detached supervisor reports once its roles are
// started, or one failed.
type UpStart struct {
	Roles []string `json:"roles,omitempty"`
	Role  string   `json:"role,omitempty"`  // the role that failed
	Error string   `json:"error,omitempty"` // why
	Hints []string `json:"hints,omitempty"`
}

// upSession is one nook up: its supervisor, the roles' records and logs.
type upSession struct {
	p     *Project
	env   *env.Env
	proj  *runstate.Project
	roles []string
	opt   UpOptions

	stopping atomic.Bool // Ctrl-C, SIGTERM or nook stop: ends are not failures

	starts starts // when each run's command started, for roles without a ready check

	mu       sync.Mutex
	records  map[string]*runstate.Role
	pending  map[string]bool // roles not yet started (long-running: ready) or succeeded (one-shot)
	ended    map[string]bool // roles whose last run is over
	allEnded chan struct{}
	failures []string // roles that failed on their own, as messages
	failExit int      // the first failed role's status
}

// Up runs roles (UpRoles) in the foreground until they all end, a signal
// comes or nook stop asks; it is also the body of nook up -d's supervisor.
// proj is the project's run state (OpenRunState). The status is the first
// failed role's (each failure was said as it came), 125 with an error.
func (p *Project) Up(proj *runstate.Project, roles []string, opt UpOptions) (int, error) {
	e := p.Env
	unlock, err := proj.Lock()
	var locked *runstate.LockedError
	if errors.As(err, &locked) {
		pid := 0
		if s, _ := proj.Supervisor(); s != nil {
			pid = s.Owner.Pid
		}
		return exitNook, AlreadyUpError{Project: e.Project, Pid: pid}
	}
	if err != nil {
		return exitNook, err
	}
	defer unlock()
	me, err := runstate.Self()
	if err != nil {
		return exitNook, err
	}

	calls := make(chan controlCall)
	loopDone := make(chan struct{}) // closed when runUp takes no more calls
	defer close(loopDone)
	ctl, err := listenControl(proj.ControlPath(), calls, loopDone)
	if err != nil {
		return exitNook, err
	}
	defer ctl.Close()
	sup := &runstate.Supervisor{Owner: me, Project: e.Project, ProjectDir: e.ProjectDir, Roles: roles,
		Detached: opt.Detached, Control: proj.ControlPath(), Started: time.Now()}
	if err := proj.WriteSupervisor(sup); err != nil {
		return exitNook, err
	}
	defer proj.RemoveSupervisor(me)

	s := &upSession{p: p, env: e, proj: proj, roles: roles, opt: opt, records: map[string]*runstate.Role{},
		pending: map[string]bool{}, ended: map[string]bool{}, allEnded: make(chan struct{})}
	var w io.Writer
	colour := false
	if opt.Terminal != nil {
		w = opt.Terminal
		colour = term.IsTerminal(int(opt.Terminal.Fd())) && os.Getenv("NO_COLOR") == ""
	}
	mux := newLogMux(w, colour, roles)
	logs := map[string]*os.File{}
	defer func() {
		for _, f := range logs {
			f.Close()
		}
	}()
	var sroles []supervise.Role
	for _, n := range roles {
		r := e.Roles[n]
		rec, err := roleRecord(e, r, "up")
		if err != nil {
			return exitNook, err
		}
		s.records[n], s.pending[n] = rec, true
		if err := proj.WriteRole(rec); err != nil {
			return exitNook, err
		}
		logf, err := proj.CreateLog(n)
		if err != nil {
			return exitNook, err
		}
		logs[n] = logf
		sroles = append(sroles, supervise.Role{Name: n, LongRunning: r.LongRunning(), DependsOn: r.DependsOn,
			Restart: r.Restart, Ready: s.starts.check(e, r)})
	}

	// A role gets the same signal from its Run (forwarded) and may end at
	// once: mark the stop as soon as the signal comes, so that such an end
	// is not taken for a failure.
	caught := make(chan os.Signal, 2)
	signal.Notify(caught, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer func() {
		signal.Stop(caught)
		close(caught)
	}()
	sigs := make(chan os.Signal, 2)
	go func() {
		for sig := range caught {
			s.stopping.Store(true)
			select {
			case sigs <- sig:
			default: // a stop is on its way already
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pods := p.NewPodJoiner()
	defer pods.Close()
	for _, n := range roles {
		if inPod(e.Roles[n]) {
			set, err := p.settings()
			if err != nil {
				return exitNook, err
			}
			if _, err := pods.join(set.idmap); err != nil { // the pod's notice first
				return exitNook, err
			}
			break
		}
	}
	sv, err := supervise.NewWithOptions(ctx, upStarter{s: s, mux: mux, logs: logs, pods: pods}, sroles,
		supervise.Options{Report: s.event, Ready: s.ready})
	if err != nil {
		return exitNook, err
	}
	defer sv.Stop()
	if !opt.Detached {
		s.say("starting %s", joinNames(roles))
	}
	sv.StartAll()
	for done := false; !done; {
		select {
		case sig := <-sigs:
			s.stopping.Store(true)
			s.say("%v: stopping every role", sig)
			cancel() // every role gets SIGTERM at once
			done = true
		case c := <-calls:
			if len(c.req.Stop) == 0 {
				s.stopping.Store(true)
				cancel()
				sv.Stop()
				c.reply <- controlReply{}
				done = true
				continue
			}
			if err := s.knownRoles(c.req.Stop); err != nil {
				c.reply <- controlReply{Error: err.Error()}
				continue
			}
			sv.Halt(c.req.Stop...)
			c.reply <- controlReply{}
		case <-s.allEnded:
			done = true
		}
	}
	sv.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) > 0 {
		return max(s.failExit, 1), nil // each failure was said as it came
	}
	return 0, nil
}

// knownRoles fails for a name that is not one of the session's roles.
func (s *upSession) knownRoles(names []string) error {
	for _, n := range names {
		if _, ok := s.records[n]; !ok {
			return fmt.Errorf("role %s is not run by this nook up (it runs %s)", n, joinNames(s.roles))
		}
	}
	return nil
}

// upStarter runs one role of a session.
type upStarter struct {
	s    *upSession
	mux  *logMux
	logs map[string]*os.File
	pods *PodJoiner
}

// drainLimit bounds the wait for a run's output to be copied after it
// ended: only a process that escaped the role could hold its pipe longer.
const drainLimit = 2 * time.Second

func (u upStarter) Start(ctx context.Context, name string) (int, error) {
	s := u.s
	s.mu.Lock()
	rec := s.records[name]
	rec.Started = time.Now()
	rec.Exit, rec.Error = nil, ""
	if rec.State != runstate.Running { // a role without a check is ready before it starts
		rec.State = runstate.Starting
	}
	s.write(rec)
	s.mu.Unlock()
	out, copied, err := u.mux.pipe(name, u.logs[name])
	if err != nil {
		return exitNook, err
	}
	role := s.env.Roles[name]
	started, forget := s.starts.notifier(ctx)
	defer forget()
	l := launch{env: s.env, role: role, vars: s.p.Vars, ctx: ctx, stopTimeout: s.opt.Grace, background: true,
		out: out, portsChecked: true, pod: u.pods, built: s.p.built(role), print: s.p.Printer,
		started: started}
	code, err := l.start()
	// The run's output is in its log before its end is recorded.
	out.Close()
	select {
	case <-copied:
	case <-time.After(drainLimit):
	}
	return code, err
}

// ready records that a run of role became ready.
func (s *upSession) ready(role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.records[role]
	rec.State = runstate.Running
	s.write(rec)
	if s.env.Roles[role].LongRunning() {
		s.settled(role)
	}
}

// settled takes role off the roles nook up -d waits for.
func (s *upSession) settled(role string) {
	if !s.pending[role] {
		return
	}
	delete(s.pending, role)
	if len(s.pending) == 0 && s.opt.Started != nil {
		s.opt.Started(UpStart{Roles: s.roles})
	}
}

// event records the end of a run and says what happened.
func (s *upSession) event(ev supervise.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.records[ev.Role]
	exit := ev.Exit
	stopped := ev.Stopped || s.stopping.Load()
	var failure string
	var hints []string
	switch {
	case ev.Skipped != "":
		rec.State, rec.Error = runstate.Failed, fmt.Sprintf("not started: %s did not succeed", ev.Skipped)
		failure = fmt.Sprintf("%s was not started: %s did not succeed", ev.Role, ev.Skipped)
	case ev.Restarting:
		rec.State, rec.Exit = runstate.Restarting, &exit
		rec.Restarts++
		s.say("%s exited with status %d; restarting it in %v", ev.Role, ev.Exit, ev.Backoff)
		if s.pending[ev.Role] && s.opt.Started != nil {
			s.opt.Started(UpStart{Role: ev.Role, Error: fmt.Sprintf("role %s exited with status %d as it started", ev.Role, ev.Exit),
				Hints: []string{restartingHint(ev.Role)}})
		}
		s.write(rec)
		return
	case stopped:
		rec.State, rec.Exit = runstate.Stopped, &exit
		if !s.stopping.Load() {
			// One role stopped on request (nook stop ROLE) before it was
			// ready: nook up -d no longer waits for it.
			defer s.settled(ev.Role)
		}
	case ev.Err != nil:
		rec.State, rec.Exit, rec.Error = runstate.Failed, &exit, ev.Err.Error()
		s.p.Printer.Error(fmt.Errorf("role %s: %w", ev.Role, ev.Err))
		failure = fmt.Sprintf("%s could not be run: %v", ev.Role, ev.Err)
		var h interface{ Hint() string }
		if errors.As(ev.Err, &h) && h.Hint() != "" {
			hints = append(hints, h.Hint())
		}
	case ev.Exit != 0:
		rec.State, rec.Exit = runstate.Exited, &exit
		failure = fmt.Sprintf("%s exited with status %d", ev.Role, ev.Exit)
	default:
		rec.State, rec.Exit = runstate.Exited, &exit
		switch {
		case !s.env.Roles[ev.Role].LongRunning():
			s.settled(ev.Role)
		case s.pending[ev.Role] && s.opt.Started != nil:
			// nook up -d waited for it to start: it did not stay.
			s.opt.Started(UpStart{Role: ev.Role, Error: fmt.Sprintf("role %s exited with status 0 as it started", ev.Role),
				Hints: []string{"a long-running role must keep running in the foreground (a server that daemonises ends its role)", doneHint}})
			delete(s.pending, ev.Role)
		default:
			s.say("%s exited with status 0", ev.Role)
		}
	}
	s.write(rec)
	if failure != "" {
		if !s.opt.Detached || !s.pending[ev.Role] {
			s.say("%s", failure)
		}
		if len(s.failures) == 0 {
			s.failExit = exit
		}
		s.failures = append(s.failures, failure)
		if s.pending[ev.Role] && s.opt.Started != nil {
			s.opt.Started(UpStart{Role: ev.Role, Error: failure, Hints: append(hints, doneHint)})
		}
		delete(s.pending, ev.Role)
	}
	if !s.ended[ev.Role] {
		s.ended[ev.Role] = true
		if len(s.ended) == len(s.roles) {
			close(s.allEnded)
		}
	}
}

// doneHint follows a role of nook up -d that failed for good.
const doneHint = "see `nook logs ROLE`; the other roles keep running (`nook ps`) until `nook stop`"

func restartingHint(role string) string {
	return fmt.Sprintf("its restart policy starts it again: see `nook logs %s` and `nook ps`; `nook stop` ends every role", role)
}

// write stores rec; a failure is said, not fatal.
func (s *upSession) write(rec *runstate.Role) {
	if err := s.proj.WriteRole(rec); err != nil {
		s.p.Printer.Error(err)
	}
}

// say prints one `nook: up:` line.
func (s *upSession) say(format string, args ...any) {
	prefix := "nook: up: "
	if s.opt.Detached {
		prefix = time.Now().Format(time.RFC3339) + " " + prefix
	}
	s.p.Printer.Line(prefix + fmt.Sprintf(format, args...))
}

// AlreadyUpError refuses a second nook up of a project.
type AlreadyUpError struct {
	Project string
	Pid     int // the supervisor of the nook up that runs
}

func (e AlreadyUpError) Error() string {
	return fmt.Sprintf("project %s is already up (nook up, pid %d)", e.Project, e.Pid)
}

func (e AlreadyUpError) Hint() string {
	return "see its roles with `nook ps`; stop them with `nook stop` first, or run one more role with `nook run ROLE`"
}

// joinNames lists names for messages: "build, server".
func joinNames(names []string) string { return strings.Join(names, ", ") }
