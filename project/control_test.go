package project

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestControlStopReachesTheLoop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	calls := make(chan controlCall)
	done := make(chan struct{})
	defer close(done)
	l, err := listenControl(path, calls, done)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []string, 1)
	go func() {
		c := <-calls
		got <- c.req.Stop
		c.reply <- controlReply{Error: "role x is not run by this nook up"}
	}()
	err = ControlStop(path, []string{"x"})
	if err == nil || err.Error() != "role x is not run by this nook up" {
		t.Errorf("controlStop = %v, want the loop's error", err)
	}
	if roles := <-got; !slices.Equal(roles, []string{"x"}) {
		t.Errorf("the loop got a request to stop %v, want [x]", roles)
	}
}

func TestControlStopAfterTheLoopEnded(t *testing.T) {
	// Nobody receives on calls any more: the request must not wait for
	// ever, and the client reads that nook up has ended.
	path := filepath.Join(t.TempDir(), "control.sock")
	done := make(chan struct{})
	l, err := listenControl(path, make(chan controlCall), done)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	close(done)
	if err := ControlStop(path, []string{"x"}); err != nil {
		t.Errorf("controlStop to a nook up whose loop ended = %v, want nil", err)
	}
}
