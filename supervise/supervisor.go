package supervise

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nookenv/nook/env"
)

// Starter runs one role in the foreground.
type Starter interface {
	// Start runs the role and returns once it has ended, with its exit
	// status. Cancelling ctx stops the role; Start still returns only once
	// everything of it is gone.
	Start(ctx context.Context, role string) (exit int, err error)
}

// Event reports that a run ended, or that a role was not started.
type Event struct {
	Role    string
	Exit    int   // the exit status the Starter returned
	Err     error // the Starter's error: the role could not be run
	Stopped bool  // the supervisor ended the run: a restart, Stop, or the context of New ended
	// Skipped is set when the role was not started: it names the
	// dependency that failed, did not run or never became ready.
	Skipped string
	// Restarting is set when the role's restart policy starts it again
	// after Backoff; the run is not over. Every run ends with exactly one
	// Event whose Restarting is false.
	Restarting bool
	Backoff    time.Duration
}

// Failed reports whether the role failed on its own: it could not be run,
// or it exited with a non-zero status without being stopped.
func (e Event) Failed() bool {
	return e.Skipped == "" && !e.Stopped && (e.Err != nil || e.Exit != 0)
}

// Options tune a Supervisor. Zero durations take the defaults.
type Options struct {
	// Report is called once per ended run (and per restart of it, with
	// Restarting set) and per skipped role, from the run's goroutine,
	// before a restart of the same role can start it again; nil ignores
	// them.
	Report func(Event)
	// Ready is called, from the run's goroutine or its check's, each time
	// a run of a role becomes ready: it passed its Ready check, or, with
	// none, it is being started.
	Ready func(role string)
	// Backoff is the wait before the first restart of a role (default
	// DefaultBackoff); it doubles with each restart up to MaxBackoff
	// (default DefaultMaxBackoff) and is reset by a run that lasted
	// ResetAfter (default DefaultResetAfter).
	Backoff, MaxBackoff, ResetAfter time.Duration
}

// Default restart back-off: 0.5s, 1s, 2s… up to 30s, back to 0.5s after a
// run of 10s.
const (
	DefaultBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	DefaultResetAfter = 10 * time.Second
)

// Supervisor runs a set of roles and restarts them on request. Its methods
// may be called from any goroutine; Restart and Stop take turns.
type Supervisor struct {
	starter Starter
	graph   *graph
	report  func(Event)
	opt     Options
	ctx     context.Context // parent of every run
	cancel  context.CancelFunc

	ctl     sync.Mutex // held by Restart and Stop
	seq     *sequence  // the latest start sequence; under ctl
	stopped bool       // Stop was called; under ctl

	mu     sync.Mutex
	runs   map[string]*run // the latest run of each role; under mu
	halted map[string]bool // roles Halt stopped, not to be started by a sequence; under mu
	all    sync.WaitGroup  // every run's goroutine
}

// run is one run of a role.
type run struct {
	cancel    context.CancelFunc
	done      chan struct{} // closed once the last Starter call has returned and its Event is reported
	ready     chan struct{} // closed once a run first became ready
	readyOnce sync.Once
	stopped   atomic.Bool // the supervisor asked it to stop
	exit      int         // of the last Starter call; read once done is closed
	err       error
}

func (r *run) ok() bool { return r.err == nil && r.exit == 0 && !r.stopped.Load() }

// sequence starts roles in dependency order, one at a time, waiting for
// each one-shot role to end before the next.
type sequence struct {
	cancel    context.CancelFunc
	done      chan struct{}
	remaining map[string]bool // roles not yet finished starting; under the Supervisor's mu
	started   map[string]bool // roles it has started; under the Supervisor's mu
	running   map[string]bool // roles a sequence it took over started, left running: waited for, not started
}

// New returns a Supervisor of roles that starts nothing yet. Runs end when
// ctx does (report still gets their Events, with Stopped set). report is
// called once per ended run and per skipped role, from the run's goroutine,
// before a restart of the same role can start it again; nil ignores them.
func New(ctx context.Context, starter Starter, roles []Role, report func(Event)) (*Supervisor, error) {
	return NewWithOptions(ctx, starter, roles, Options{Report: report})
}

// NewWithOptions is New with readiness notices and restart back-off.
func NewWithOptions(ctx context.Context, starter Starter, roles []Role, opt Options) (*Supervisor, error) {
	g, err := newGraph(roles)
	if err != nil {
		return nil, err
	}
	report := opt.Report
	if report == nil {
		report = func(Event) {}
	}
	if opt.Backoff <= 0 {
		opt.Backoff = DefaultBackoff
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = DefaultMaxBackoff
	}
	opt.MaxBackoff = max(opt.MaxBackoff, opt.Backoff)
	if opt.ResetAfter <= 0 {
		opt.ResetAfter = DefaultResetAfter
	}
	ctx, cancel := context.WithCancel(ctx)
	return &Supervisor{starter: starter, graph: g, report: report, opt: opt, ctx: ctx, cancel: cancel,
		runs: map[string]*run{}, halted: map[string]bool{}}, nil
}

// StartAll starts every role in dependency order and returns that order.
func (s *Supervisor) StartAll() []string {
	return s.Restart(s.graph.order...)
}

// Restart stops the named roles and the roles that depend on them,
// dependants first, waiting for each run to end; then it starts them again
// in dependency order in the background and returns the roles it starts,
// in that order. Unknown names are ignored. After Stop, Restart does
// nothing.
//
// A start sequence still in progress (a one-shot role that has not ended,
// a long-running one not yet ready) is taken over, so that no role is left
// out: the roles it had not started are started in turn, and those it had
// started keep running, untouched, unless they are among the roles to
// restart; the new sequence waits for them as the old one would have.
func (s *Supervisor) Restart(names ...string) []string {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	if s.stopped {
		return nil
	}
	set := s.graph.withDependants(names)
	keep := map[string]bool{} // started by the sequence taken over, left running
	if s.seq != nil {
		s.seq.cancel()
		<-s.seq.done
		for n := range s.seq.remaining {
			if !set[n] && (s.seq.started[n] || s.seq.running[n]) {
				keep[n] = true
			}
			set[n] = true
		}
		s.seq = nil
	}
	order := s.graph.sorted(set)
	if len(order) == len(keep) {
		return nil
	}
	s.mu.Lock()
	for _, n := range order {
		delete(s.halted, n)
	}
	s.mu.Unlock()
	var restarted []string
	for i := len(order) - 1; i >= 0; i-- {
		if !keep[order[i]] {
			s.stop(order[i])
			restarted = append([]string{order[i]}, restarted...)
		}
	}
	ctx, cancel := context.WithCancel(s.ctx)
	seq := &sequence{cancel: cancel, done: make(chan struct{}), remaining: maps.Clone(set), started: map[string]bool{}, running: keep}
	s.seq = seq
	go s.runSequence(ctx, seq, order)
	return restarted
}

// Stop stops every run and returns once all have ended. It is safe to call
// more than once.
func (s *Supervisor) Stop() {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.stopped = true
	if s.seq != nil {
		s.seq.cancel()
		<-s.seq.done
		// The roles it never reached end here.
		for _, n := range s.graph.sorted(s.seq.unstarted()) {
			s.report(Event{Role: n, Stopped: true})
		}
		s.seq = nil
	}
	s.mu.Lock()
	for _, r := range s.runs {
		r.stopped.Store(true)
	}
	s.mu.Unlock()
	s.cancel()
	s.all.Wait()
}

// Halt stops the named roles, and only them, waiting for each run to end;
// neither their restart policy nor a start sequence in progress starts
// them again (Restart does). A role that a sequence in progress has not
// reached yet ends at once with an Event whose Stopped is set, never
// started. Unknown names are ignored.
func (s *Supervisor) Halt(names ...string) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	var waiting []string
	s.mu.Lock()
	for _, n := range names {
		if _, ok := s.graph.roles[n]; !ok || s.halted[n] {
			continue
		}
		s.halted[n] = true
		if s.seq != nil && s.seq.remaining[n] && !s.seq.started[n] {
			delete(s.seq.remaining, n)
			waiting = append(waiting, n)
		}
	}
	s.mu.Unlock()
	for _, n := range waiting {
		s.report(Event{Role: n, Stopped: true})
	}
	for _, n := range names {
		s.stop(n)
	}
}

// stop ends the role's latest run and waits until it has ended.
func (s *Supervisor) stop(name string) {
	s.mu.Lock()
	r := s.runs[name]
	s.mu.Unlock()
	if r == nil {
		return
	}
	r.stopped.Store(true)
	r.cancel()
	<-r.done
}

// runSequence starts the roles of order one after the other, waiting for
// each one-shot role to end and each long-running one with a check to be
// ready before the next; a role in seq.running already runs (started by a
// sequence this one took over) and is only waited for.
func (s *Supervisor) runSequence(ctx context.Context, seq *sequence, order []string) {
	defer close(seq.done)
	for _, name := range order {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		halted := s.halted[name]
		r := s.runs[name]
		s.mu.Unlock()
		if halted {
			continue // Halt has ended it
		}
		if seq.running[name] && r != nil {
			s.mu.Lock()
			seq.started[name] = true
			s.mu.Unlock()
		} else {
			if dep := s.blockedBy(name); dep != "" {
				seq.finished(&s.mu, name)
				s.report(Event{Role: name, Skipped: dep})
				continue
			}
			s.mu.Lock()
			seq.started[name] = true
			s.mu.Unlock()
			r = s.start(name)
		}
		if role := s.graph.roles[name]; role.LongRunning {
			if role.Ready != nil {
				// Whatever comes next may depend on it.
				select {
				case <-r.ready:
				case <-r.done:
				case <-ctx.Done():
					return
				}
			}
			seq.finished(&s.mu, name)
			continue
		}
		select {
		case <-r.done:
			seq.finished(&s.mu, name)
		case <-ctx.Done():
			return
		}
	}
}

// finished takes name off the roles still to start; mu is the
// Supervisor's.
func (seq *sequence) finished(mu *sync.Mutex, name string) {
	mu.Lock()
	delete(seq.remaining, name)
	mu.Unlock()
}

// unstarted are the roles it had yet to start when it ended; call it once
// done is closed.
func (seq *sequence) unstarted() map[string]bool {
	out := map[string]bool{}
	for n := range seq.remaining {
		if !seq.started[n] && !seq.running[n] {
			out[n] = true
		}
	}
	return out
}

// blockedBy names a dependency of the role that is not done with: a
// one-shot one whose latest run did not succeed, or a long-running one
// with a readiness check that never passed. It is "" when there is none.
func (s *Supervisor) blockedBy(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.graph.roles[name].DependsOn {
		dep, ok := s.graph.roles[d]
		if !ok || (dep.LongRunning && dep.Ready == nil) {
			continue
		}
		r := s.runs[d]
		if r == nil {
			return d
		}
		if dep.LongRunning {
			select {
			case <-r.ready:
			default:
				return d
			}
			continue
		}
		select {
		case <-r.done:
			if !r.ok() {
				return d
			}
		default:
			return d
		}
	}
	return ""
}

// start runs the role in the background: again and again, as its
// restart policy says, until a run ends that the policy keeps down or the
// supervisor stops it.
func (s *Supervisor) start(name string) *run {
	ctx, cancel := context.WithCancel(s.ctx)
	r := &run{cancel: cancel, done: make(chan struct{}), ready: make(chan struct{})}
	s.mu.Lock()
	s.runs[name] = r
	s.mu.Unlock()
	s.all.Add(1)
	go func() {
		defer s.all.Done()
		defer cancel()
		role := s.graph.roles[name]
		delay := s.opt.Backoff
		for {
			began := time.Now()
			attempt, endAttempt := context.WithCancel(ctx)
			if role.Ready == nil {
				r.markReady(s.opt.Ready, name)
			} else {
				go func() {
					if role.Ready(attempt) == nil && attempt.Err() == nil {
						r.markReady(s.opt.Ready, name)
					}
				}()
			}
			exit, err := s.starter.Start(attempt, name)
			endAttempt()
			if s.ctx.Err() != nil {
				r.stopped.Store(true)
			}
			r.exit, r.err = exit, err
			ev := Event{Role: name, Exit: exit, Err: err, Stopped: r.stopped.Load()}
			again := !ev.Stopped && err == nil && restarts(role.Restart, exit)
			if time.Since(began) >= s.opt.ResetAfter {
				delay = s.opt.Backoff
			}
			if !again {
				s.report(ev)
				close(r.done)
				return
			}
			ev.Restarting, ev.Backoff = true, delay
			s.report(ev)
			select {
			case <-ctx.Done():
				r.stopped.Store(true)
				s.report(Event{Role: name, Exit: exit, Stopped: true})
				close(r.done)
				return
			case <-time.After(delay):
			}
			delay = min(2*delay, s.opt.MaxBackoff)
		}
	}()
	return r
}

// markReady calls notify and, the first time, closes r.ready.
func (r *run) markReady(notify func(string), name string) {
	r.readyOnce.Do(func() { close(r.ready) })
	if notify != nil {
		notify(name)
	}
}

// restarts reports whether policy starts a role again after it exited
// with status exit on its own.
func restarts(policy string, exit int) bool {
	switch policy {
	case env.RestartAlways:
		return true
	case env.RestartOnFailure:
		return exit != 0
	}
	return false
}
