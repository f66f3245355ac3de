package supervise

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// waitLimit only bounds a test that would otherwise hang on a bug; every
// wait below is on an event.
const waitLimit = 10 * time.Second

// call is one Start of the fake: the test ends it with end, or the
// supervisor by cancelling ctx (then, when held, only once released).
type call struct {
	role    string
	ctx     context.Context
	end     chan int
	release chan struct{}
}

// fake is a Starter whose runs the test ends by hand. It keeps a log of
// starts and ends and the most runs of each role alive at once.
type fake struct {
	calls chan *call
	hold  bool // a cancelled run ends only once released

	mu       sync.Mutex
	log      []string
	alive    map[string]int
	maxAlive map[string]int
}

func newFake() *fake {
	return &fake{calls: make(chan *call, 100), alive: map[string]int{}, maxAlive: map[string]int{}}
}

func (f *fake) Start(ctx context.Context, role string) (int, error) {
	c := &call{role: role, ctx: ctx, end: make(chan int, 1), release: make(chan struct{})}
	f.mu.Lock()
	f.alive[role]++
	f.maxAlive[role] = max(f.maxAlive[role], f.alive[role])
	f.log = append(f.log, "start "+role)
	hold := f.hold
	f.mu.Unlock()
	f.calls <- c
	var code int
	select {
	case code = <-c.end:
	case <-ctx.Done():
		if hold {
			<-c.release
		}
		code = 143
	}
	f.mu.Lock()
	f.alive[role]--
	f.log = append(f.log, "end "+role)
	f.mu.Unlock()
	return code, nil
}

func (f *fake) logged() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// next is the next Start, which must be of role.
func (f *fake) next(t *testing.T, role string) *call {
	t.Helper()
	select {
	case c := <-f.calls:
		if c.role != role {
			t.Fatalf("started %s, want %s", c.role, role)
		}
		return c
	case <-time.After(waitLimit):
		t.Fatalf("%s was never started; log %v", role, f.logged())
		return nil
	}
}

// nextSet is the next Starts, one of each role in any order: roles after a
// long-running one start without waiting for it.
func (f *fake) nextSet(t *testing.T, roles ...string) map[string]*call {
	t.Helper()
	got := map[string]*call{}
	for range roles {
		select {
		case c := <-f.calls:
			if !slices.Contains(roles, c.role) || got[c.role] != nil {
				t.Fatalf("started %s, want one of %v", c.role, roles)
			}
			got[c.role] = c
		case <-time.After(waitLimit):
			t.Fatalf("not all of %v were started; log %v", roles, f.logged())
		}
	}
	return got
}

// before fails unless the nth occurrence (from 1) of each line comes in the
// order given.
func before(t *testing.T, log []string, lines ...string) {
	t.Helper()
	at := -1
	for _, l := range lines {
		want, _ := strconv.Atoi(l[:1])
		l = l[2:]
		i, n := -1, 0
		for j, x := range log {
			if x == l {
				if n++; n == want {
					i = j
					break
				}
			}
		}
		if i < at {
			t.Errorf("log %v: %q (occurrence %d) out of order in %v", log, l, want, lines)
			return
		}
		at = i
	}
}

// noMoreStarts fails if a Start is pending; call it after Stop, when no
// start can still come.
func (f *fake) noMoreStarts(t *testing.T) {
	t.Helper()
	if len(f.calls) > 0 {
		c := <-f.calls
		t.Errorf("unexpected extra start of %s; log %v", c.role, f.logged())
	}
}

// events collects the supervisor's reports.
type events chan Event

func (ev events) report(e Event) { ev <- e }

// next is the next Event, which must be of role.
func (ev events) next(t *testing.T, role string) Event {
	t.Helper()
	select {
	case e := <-ev:
		if e.Role != role {
			t.Fatalf("event %+v, want one of %s", e, role)
		}
		return e
	case <-time.After(waitLimit):
		t.Fatalf("no event for %s", role)
		return Event{}
	}
}

func newSupervisor(t *testing.T, ctx context.Context, f *fake, roles ...Role) (*Supervisor, events) {
	t.Helper()
	ev := make(events, 100)
	s, err := New(ctx, f, roles, ev.report)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s, ev
}

func TestOneRestartIsOneRerun(t *testing.T) {
	f := newFake()
	s, ev := newSupervisor(t, context.Background(), f, Role{Name: "build"})
	s.StartAll()
	f.next(t, "build").end <- 0
	if e := ev.next(t, "build"); e.Failed() || e.Stopped {
		t.Fatalf("first run: %+v", e)
	}
	if got := s.Restart("build"); !slices.Equal(got, []string{"build"}) {
		t.Fatalf("Restart returned %v", got)
	}
	f.next(t, "build").end <- 0
	ev.next(t, "build")
	s.Stop()
	f.noMoreStarts(t)
	if want := []string{"start build", "end build", "start build", "end build"}; !slices.Equal(f.logged(), want) {
		t.Errorf("log %v, want %v", f.logged(), want)
	}
}

func TestRestartDuringRunCancelsAndReruns(t *testing.T) {
	f := newFake()
	s, ev := newSupervisor(t, context.Background(), f, Role{Name: "build"})
	s.StartAll()
	first := f.next(t, "build")
	s.Restart("build") // returns once the first run has ended
	if first.ctx.Err() == nil {
		t.Fatal("the run in progress was not cancelled")
	}
	if e := ev.next(t, "build"); !e.Stopped || e.Failed() {
		t.Errorf("cancelled run: %+v, want Stopped", e)
	}
	second := f.next(t, "build")
	second.end <- 0
	if e := ev.next(t, "build"); e.Stopped || e.Failed() {
		t.Errorf("re-run: %+v", e)
	}
	s.Stop()
	f.noMoreStarts(t)
}

func TestRestartLongRunningKeepsOneInstance(t *testing.T) {
	f := newFake()
	f.hold = true
	s, _ := newSupervisor(t, context.Background(), f, Role{Name: "server", LongRunning: true})
	s.StartAll()
	first := f.next(t, "server")
	restarted := make(chan struct{})
	go func() { s.Restart("server"); close(restarted) }()
	<-first.ctx.Done() // SIGTERM sent; the old server is still shutting down
	select {
	case <-restarted:
		t.Fatal("Restart returned before the old run ended")
	case c := <-f.calls:
		t.Fatalf("%s started while the old server was still alive", c.role)
	default:
	}
	close(first.release)
	<-restarted
	second := f.next(t, "server")
	close(second.release) // let Stop end it at once
	s.Stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxAlive["server"] != 1 {
		t.Errorf("%d servers alive at once", f.maxAlive["server"])
	}
	if want := []string{"start server", "end server", "start server", "end server"}; !slices.Equal(f.log, want) {
		t.Errorf("log %v, want %v", f.log, want)
	}
}

func TestDependantsRestartInOrder(t *testing.T) {
	f := newFake()
	s, _ := newSupervisor(t, context.Background(), f,
		Role{Name: "smoke", DependsOn: []string{"server"}},
		Role{Name: "server", LongRunning: true, DependsOn: []string{"build"}},
		Role{Name: "build", DependsOn: []string{"gen"}},
		Role{Name: "gen"},
	)
	if got, want := s.StartAll(), []string{"gen", "build", "server", "smoke"}; !slices.Equal(got, want) {
		t.Fatalf("start order %v, want %v", got, want)
	}
	f.next(t, "gen").end <- 0
	f.next(t, "build").end <- 0
	f.nextSet(t, "server", "smoke")["smoke"].end <- 0
	// A change for build: build, then what depends on it; gen stays.
	if got, want := s.Restart("build"), []string{"build", "server", "smoke"}; !slices.Equal(got, want) {
		t.Fatalf("restart order %v, want %v", got, want)
	}
	f.next(t, "build").end <- 0
	f.nextSet(t, "server", "smoke")["smoke"].end <- 0
	s.Stop()
	f.noMoreStarts(t)
	log := f.logged()
	before(t, log, "1 start gen", "1 end gen", "1 start build", "1 end build", "1 start server",
		"1 end server", "2 start build", "2 end build", "2 start server")
	before(t, log, "1 end build", "1 start smoke")
	before(t, log, "2 end build", "2 start smoke")
	if n := slices.Index(log, "start gen"); slices.Contains(log[n+1:], "start gen") {
		t.Errorf("gen re-ran: %v", log)
	}
}

func TestFailingRoleKeepsTheLoop(t *testing.T) {
	f := newFake()
	s, ev := newSupervisor(t, context.Background(), f,
		Role{Name: "build"},
		Role{Name: "server", LongRunning: true, DependsOn: []string{"build"}},
	)
	s.StartAll()
	f.next(t, "build").end <- 2
	if e := ev.next(t, "build"); !e.Failed() || e.Exit != 2 {
		t.Fatalf("failed build: %+v", e)
	}
	if e := ev.next(t, "server"); e.Skipped != "build" {
		t.Fatalf("server after a failed build: %+v, want skipped for build", e)
	}
	// The next change is handled as usual.
	s.Restart("build")
	f.next(t, "build").end <- 0
	f.next(t, "server")
	s.Stop()
	f.noMoreStarts(t)
}

func TestRestartTakesOverAnUnfinishedStart(t *testing.T) {
	f := newFake()
	s, _ := newSupervisor(t, context.Background(), f,
		Role{Name: "build"},
		Role{Name: "server", LongRunning: true, DependsOn: []string{"build"}},
		Role{Name: "lint"},
	)
	s.StartAll()
	first := f.next(t, "build")
	// lint changes while build runs: lint is re-run, server still gets its
	// turn after the build, which nothing changed and which goes on.
	if got, want := s.Restart("lint"), []string{"server", "lint"}; !slices.Equal(got, want) {
		t.Fatalf("restarted %v, want %v", got, want)
	}
	if first.ctx.Err() != nil {
		t.Fatal("the build in progress was cancelled, though nothing it depends on changed")
	}
	f.noMoreStarts(t)
	first.end <- 0
	f.nextSet(t, "server", "lint")["lint"].end <- 0
	s.Stop()
	f.noMoreStarts(t)
	if got := f.maxAlive["build"]; got != 1 {
		t.Errorf("%d builds at once", got)
	}
}

// A role that runs on while another one is re-run keeps its run: a
// restart of one role never touches another that does not depend on it.
func TestRestartLeavesOtherRunsAlone(t *testing.T) {
	f := newFake()
	s, _ := newSupervisor(t, context.Background(), f,
		Role{Name: "gen"},
		Role{Name: "sleeper"},
	)
	s.StartAll()
	f.next(t, "gen").end <- 0
	sleeper := f.next(t, "sleeper") // a one-shot role that does not end
	for range 2 {
		if got, want := s.Restart("gen"), []string{"gen"}; !slices.Equal(got, want) {
			t.Fatalf("restarted %v, want %v", got, want)
		}
		f.next(t, "gen").end <- 0
	}
	if sleeper.ctx.Err() != nil {
		t.Fatal("sleeper was stopped by a restart of gen")
	}
	f.noMoreStarts(t)
	s.Stop()
	if got := f.logged(); countOf(got, "start sleeper") != 1 {
		t.Errorf("log %v: sleeper was started again", got)
	}
}

func countOf(log []string, line string) int {
	n := 0
	for _, l := range log {
		if l == line {
			n++
		}
	}
	return n
}

func TestStopEndsEveryRun(t *testing.T) {
	for _, how := range []string{"Stop", "context"} {
		t.Run(how, func(t *testing.T) {
			f := newFake()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, ev := newSupervisor(t, ctx, f,
				Role{Name: "api", LongRunning: true},
				Role{Name: "worker", LongRunning: true},
			)
			s.StartAll()
			started := f.nextSet(t, "api", "worker")
			api, worker := started["api"], started["worker"]
			if how == "context" {
				cancel()
			}
			s.Stop()
			for _, c := range []*call{api, worker} {
				if c.ctx.Err() == nil {
					t.Errorf("%s was not cancelled", c.role)
				}
			}
			f.mu.Lock()
			for role, n := range f.alive {
				if n != 0 {
					t.Errorf("%d runs of %s alive after Stop", n, role)
				}
			}
			f.mu.Unlock()
			for range 2 {
				if e := <-ev; !e.Stopped {
					t.Errorf("%+v, want Stopped", e)
				}
			}
			if got := s.Restart("api"); got != nil {
				t.Errorf("Restart after Stop started %v", got)
			}
			f.noMoreStarts(t)
		})
	}
}

func TestDependencyCycleIsAnError(t *testing.T) {
	_, err := New(context.Background(), newFake(), []Role{
		{Name: "a", DependsOn: []string{"b"}},
		{Name: "b", DependsOn: []string{"a"}},
	}, nil)
	if err == nil {
		t.Fatal("no error for a dependency cycle")
	}
}

func TestStarterErrorIsAFailure(t *testing.T) {
	e := Event{Role: "x", Exit: 125, Err: errors.New("pulling: boom")}
	if !e.Failed() {
		t.Error("an Event with an error is not a failure")
	}
	if (Event{Role: "x", Exit: 143, Stopped: true}).Failed() {
		t.Error("a stopped run counts as a failure")
	}
}
