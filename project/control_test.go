package project

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nookenv/nook/internal/safefile"
	"github.com/nookenv/nook/internal/testpeer"
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

func TestControlStopRefusesAnotherUsersSocket(t *testing.T) {
	// A control socket someone else serves gets no request.
	path := filepath.Join(t.TempDir(), "control.sock")
	srv := testpeer.Require(t, path, "unix")
	err := ControlStop(path, []string{"x"})
	var unsafe *safefile.UnsafeError
	if !errors.As(err, &unsafe) || !strings.Contains(err.Error(), fmt.Sprintf("served by uid %d", srv.UID)) {
		t.Errorf("controlStop = %v, want the socket refused as served by uid %d", err, srv.UID)
	}
	if bytes, _, err := srv.Next(10 * time.Second); err != nil || bytes != 0 {
		t.Errorf("the other user's server got %d bytes (%v), want nothing", bytes, err)
	}
}
