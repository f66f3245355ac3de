package supervise

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
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
	// Skipped is set when the role was not started: it names the one-shot
	// dependency that failed or did not run.
	Skipped string
}

// Failed reports whether the role failed on its own: it could not be run,
// or it exited with a non-zero status without being stopped.
func (e Event) Failed() bool {
	return e.Skipped == "" && !e.Stopped && (e.Err != nil || e.Exit != 0)
}

// Supervisor runs a set of roles and restarts them on request. Its methods
// may be called from any goroutine; Restart and Stop take turns.
type Supervisor struct {
	starter Starter
	graph   *graph
	report  func(Event)
	ctx     context.Context // parent of every run
	cancel  context.CancelFunc

	ctl     sync.Mutex // held by Restart and Stop
	seq     *sequence  // the latest start sequence; under ctl
	stopped bool       // Stop was called; under ctl

	mu   sync.Mutex
	runs map[string]*run // the latest run of each role; under mu
	all  sync.WaitGroup  // every run's goroutine
}

// run is one run of a role.
type run struct {
	cancel  context.CancelFunc
	done    chan struct{} // closed once the Starter has returned and the Event is reported
	stopped atomic.Bool   // the supervisor asked it to stop
	exit    int           // set before done is closed
	err     error
}

func (r *run) ok() bool { return r.err == nil && r.exit == 0 && !r.stopped.Load() }

// sequence starts roles in dependency order, one at a time, waiting for
// each one-shot role to end before the next.
type sequence struct {
	cancel    context.CancelFunc
	done      chan struct{}
	remaining map[string]bool // roles not yet finished starting; the sequence's own until done
}

// New returns a Supervisor of roles that starts nothing yet. Runs end when
// ctx does (report still gets their Events, with Stopped set). report is
// called once per ended run and per skipped role, from the run's goroutine,
// before a restart of the same role can start it again; nil ignores them.
func New(ctx context.Context, starter Starter, roles []Role, report func(Event)) (*Supervisor, error) {
	g, err := newGraph(roles)
	if err != nil {
		return nil, err
	}
	if report == nil {
		report = func(Event) {}
	}
	ctx, cancel := context.WithCancel(ctx)
	return &Supervisor{starter: starter, graph: g, report: report, ctx: ctx, cancel: cancel, runs: map[string]*run{}}, nil
}

// StartAll starts every role in dependency order and returns that order.
func (s *Supervisor) StartAll() []string {
	return s.Restart(s.graph.order...)
}

// Restart stops the named roles and the roles that depend on them (all of
// them when a restart still in progress is taken over), dependants first,
// waiting for each run to end; then it starts them again in dependency order
// in the background and returns that order. Unknown names are ignored.
// After Stop, Restart does nothing.
func (s *Supervisor) Restart(names ...string) []string {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	if s.stopped {
		return nil
	}
	set := s.graph.withDependants(names)
	if s.seq != nil {
		// Take over what the sequence in progress had not started or
		// finished yet, so that no role is left out.
		s.seq.cancel()
		<-s.seq.done
		for n := range s.seq.remaining {
			set[n] = true
		}
		s.seq = nil
	}
	order := s.graph.sorted(set)
	if len(order) == 0 {
		return nil
	}
	for i := len(order) - 1; i >= 0; i-- {
		s.stop(order[i])
	}
	ctx, cancel := context.WithCancel(s.ctx)
	seq := &sequence{cancel: cancel, done: make(chan struct{}), remaining: maps.Clone(set)}
	s.seq = seq
	go s.runSequence(ctx, seq, order)
	return order
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

func (s *Supervisor) runSequence(ctx context.Context, seq *sequence, order []string) {
	defer close(seq.done)
	for _, name := range order {
		if ctx.Err() != nil {
			return
		}
		if dep := s.blockedBy(name); dep != "" {
			delete(seq.remaining, name)
			s.report(Event{Role: name, Skipped: dep})
			continue
		}
		r := s.start(name)
		if s.graph.roles[name].LongRunning {
			delete(seq.remaining, name)
			continue
		}
		select {
		case <-r.done:
			delete(seq.remaining, name)
		case <-ctx.Done():
			return
		}
	}
}

// blockedBy names a one-shot dependency of the role whose latest run did
// not succeed, or is "".
func (s *Supervisor) blockedBy(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.graph.roles[name].DependsOn {
		dep, ok := s.graph.roles[d]
		if !ok || dep.LongRunning {
			continue
		}
		r := s.runs[d]
		if r == nil {
			return d
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

// start runs the role in the background.
func (s *Supervisor) start(name string) *run {
	ctx, cancel := context.WithCancel(s.ctx)
	r := &run{cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.runs[name] = r
	s.mu.Unlock()
	s.all.Add(1)
	go func() {
		defer s.all.Done()
		exit, err := s.starter.Start(ctx, name)
		r.exit, r.err = exit, err
		if s.ctx.Err() != nil {
			r.stopped.Store(true)
		}
		cancel()
		s.report(Event{Role: name, Exit: exit, Err: err, Stopped: r.stopped.Load()})
		close(r.done)
	}()
	return r
}
