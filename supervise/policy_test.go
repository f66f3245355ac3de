package supervise

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nookenv/nook/env"
)

// fastBackoff keeps restart tests quick; the back-off itself is checked
// through the Backoff the events carry.
var fastBackoff = Options{Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, ResetAfter: time.Hour}

func newWithOptions(t *testing.T, f *fake, opt Options, roles ...Role) (*Supervisor, events) {
	t.Helper()
	ev := make(events, 100)
	opt.Report = ev.report
	s, err := NewWithOptions(context.Background(), f, roles, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s, ev
}

func TestOnFailureRestartsUntilSuccess(t *testing.T) {
	f := newFake()
	s, ev := newWithOptions(t, f, fastBackoff, Role{Name: "server", LongRunning: true, Restart: env.RestartOnFailure})
	s.StartAll()
	var backoffs []time.Duration
	for _, code := range []int{1, 2, 3, 4} {
		f.next(t, "server").end <- code
		e := ev.next(t, "server")
		if !e.Restarting || e.Exit != code {
			t.Fatalf("exit %d: %+v, want Restarting", code, e)
		}
		backoffs = append(backoffs, e.Backoff)
	}
	// Doubling, up to the limit.
	if want := []time.Duration{1, 2, 4, 4}; !slices.Equal(backoffs, scale(want, time.Millisecond)) {
		t.Errorf("back-offs %v, want %v ms", backoffs, want)
	}
	f.next(t, "server").end <- 0
	if e := ev.next(t, "server"); e.Restarting || e.Failed() || e.Stopped {
		t.Fatalf("success: %+v, want a final event", e)
	}
	s.Stop()
	f.noMoreStarts(t)
}

func TestAlwaysRestartsAfterSuccessToo(t *testing.T) {
	f := newFake()
	s, ev := newWithOptions(t, f, fastBackoff, Role{Name: "worker", LongRunning: true, Restart: env.RestartAlways})
	s.StartAll()
	f.next(t, "worker").end <- 0
	if e := ev.next(t, "worker"); !e.Restarting {
		t.Fatalf("%+v, want Restarting", e)
	}
	second := f.next(t, "worker")
	s.Stop()
	if second.ctx.Err() == nil {
		t.Fatal("Stop did not end the restarted run")
	}
	if e := ev.next(t, "worker"); !e.Stopped || e.Restarting {
		t.Fatalf("%+v, want a final Stopped event", e)
	}
	f.noMoreStarts(t)
}

func TestNoPolicyAndStarterErrorsDoNotRestart(t *testing.T) {
	f := newFake()
	errStarter := starterFunc(func(ctx context.Context, role string) (int, error) {
		if role == "broken" {
			return 125, errors.New("pulling: boom")
		}
		return f.Start(ctx, role)
	})
	ev := make(events, 100)
	s, err := NewWithOptions(context.Background(), errStarter, []Role{
		{Name: "plain", LongRunning: true},
		{Name: "broken", LongRunning: true, Restart: env.RestartAlways},
	}, Options{Report: ev.report, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	s.StartAll()
	f.next(t, "plain").end <- 1
	for range 2 {
		e := <-ev
		if e.Restarting || !e.Failed() {
			t.Errorf("%+v: want a final failure", e)
		}
	}
	s.Stop()
	f.noMoreStarts(t)
}

func TestStopDuringBackoffEndsTheRun(t *testing.T) {
	f := newFake()
	s, ev := newWithOptions(t, f, Options{Backoff: time.Hour}, Role{Name: "server", LongRunning: true, Restart: env.RestartAlways})
	s.StartAll()
	f.next(t, "server").end <- 0
	if e := ev.next(t, "server"); !e.Restarting || e.Backoff != time.Hour {
		t.Fatalf("%+v, want Restarting after an hour", e)
	}
	s.Stop() // would hang for an hour if the back-off ignored it
	if e := ev.next(t, "server"); !e.Stopped || e.Restarting {
		t.Fatalf("%+v, want a final Stopped event", e)
	}
	f.noMoreStarts(t)
}

func TestDependantsWaitForReadiness(t *testing.T) {
	f := newFake()
	ready := make(chan struct{})
	readied := make(chan string, 10)
	s, _ := newWithOptions(t, f, Options{Ready: func(r string) { readied <- r }},
		Role{Name: "db", LongRunning: true, Ready: func(ctx context.Context) error {
			select {
			case <-ready:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}},
		Role{Name: "api", LongRunning: true, DependsOn: []string{"db"}},
	)
	s.StartAll()
	f.next(t, "db")
	select {
	case c := <-f.calls:
		t.Fatalf("%s started before db was ready", c.role)
	case <-time.After(50 * time.Millisecond): // a window for a wrong start to show
	}
	close(ready)
	f.next(t, "api")
	got := []string{<-readied, <-readied}
	slices.Sort(got)
	if !slices.Equal(got, []string{"api", "db"}) {
		t.Errorf("ready notices %v", got)
	}
	s.Stop()
	f.noMoreStarts(t)
}

func TestDependantsSkipARoleThatDiedUnready(t *testing.T) {
	f := newFake()
	s, ev := newWithOptions(t, f, Options{},
		Role{Name: "db", LongRunning: true, Ready: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}},
		Role{Name: "api", LongRunning: true, DependsOn: []string{"db"}},
	)
	s.StartAll()
	f.next(t, "db").end <- 1
	if e := ev.next(t, "db"); !e.Failed() {
		t.Fatalf("%+v, want failed", e)
	}
	if e := ev.next(t, "api"); e.Skipped != "db" {
		t.Fatalf("%+v, want skipped for db", e)
	}
	s.Stop()
	f.noMoreStarts(t)
}

func TestHaltStopsOnlyTheNamedRole(t *testing.T) {
	f := newFake()
	s, ev := newWithOptions(t, f, fastBackoff,
		Role{Name: "api", LongRunning: true, Restart: env.RestartAlways},
		Role{Name: "web", LongRunning: true, Restart: env.RestartAlways, DependsOn: []string{"api"}},
	)
	s.StartAll()
	calls := f.nextSet(t, "api", "web")
	s.Halt("api")
	if calls["api"].ctx.Err() == nil {
		t.Fatal("api still runs after Halt")
	}
	if calls["web"].ctx.Err() != nil {
		t.Fatal("Halt stopped a dependant too")
	}
	if e := ev.next(t, "api"); !e.Stopped || e.Restarting {
		t.Fatalf("%+v, want a final Stopped event", e)
	}
	select {
	case c := <-f.calls:
		t.Fatalf("%s started again after Halt", c.role)
	case <-time.After(50 * time.Millisecond): // several back-offs
	}
	// Restart brings it back, with its dependants as always.
	s.Restart("api")
	f.nextSet(t, "api", "web")
	s.Stop()
}

func TestHaltBeforeItsTurnEndsTheRole(t *testing.T) {
	f := newFake()
	s, ev := newWithOptions(t, f, Options{},
		Role{Name: "db", LongRunning: true, Ready: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}},
		Role{Name: "api", LongRunning: true, DependsOn: []string{"db"}},
	)
	s.StartAll()
	f.next(t, "db") // never ready: api waits for its turn
	s.Halt("api")
	if e := ev.next(t, "api"); !e.Stopped || e.Failed() || e.Skipped != "" {
		t.Fatalf("%+v, want a Stopped event for the role halted before it started", e)
	}
	s.Stop()
	if e := ev.next(t, "db"); !e.Stopped {
		t.Fatalf("%+v, want db stopped", e)
	}
	f.noMoreStarts(t)
}

// starterFunc is a Starter made of a function.
type starterFunc func(ctx context.Context, role string) (int, error)

func (f starterFunc) Start(ctx context.Context, role string) (int, error) { return f(ctx, role) }

func scale(ds []time.Duration, unit time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d * unit
	}
	return out
}
