package rootless

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestKilledParentLeavesNothing(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		killedParentLeavesNothing(t, w.spec(t, `echo ready; exec sleep 1000`))
	})
}

func TestKilledParentLeavesNothingFullMap(t *testing.T) {
	// nook-init re-executes itself under the full map, which clears the
	// parent-death signal: it must arm it again.
	requireSubIDs(t)
	forEachWorld(t, func(t *testing.T, w *world) {
		spec := w.spec(t, `echo ready; exec sleep 1000`)
		spec.IDMap = IDMapFull
		killedParentLeavesNothing(t, spec)
	})
}

// killedParentLeavesNothing runs spec, whose command writes "ready" and
// sleeps, in a parent that it kills; nook-init and the command must die.
func killedParentLeavesNothing(t *testing.T, spec *Spec) {
	t.Helper()
	p := startParent(t, spec)
	if l := p.line(t); l != "ready" {
		t.Fatalf("first line %q, want ready", l)
	}
	procs := []struct {
		name string
		pid  int
	}{{name: "nook-init"}, {name: "the command"}}
	procs[0].pid = onlyChild(t, p.cmd.Process.Pid)
	procs[1].pid = onlyChild(t, procs[0].pid)
	var pidfds []int
	for _, pr := range procs {
		fd, err := unix.PidfdOpen(pr.pid, 0)
		if err != nil {
			t.Fatalf("pidfd_open(%d): %v", pr.pid, err)
		}
		defer unix.Close(fd)
		pidfds = append(pidfds, fd)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	for i, fd := range pidfds {
		if !exits(t, fd, 10*time.Second) {
			t.Errorf("%s (pid %d) still runs 10s after nook was killed", procs[i].name, procs[i].pid)
		}
	}
}

// exits waits for the process of pidfd to exit and reports whether it did
// within limit (a bound for a failing test, not a delay).
func exits(t *testing.T, pidfd int, limit time.Duration) bool {
	t.Helper()
	// A pidfd becomes readable when its process exits.
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(limit.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
}

// children are the pids whose parent is pid, read from /proc.
func children(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue // exited meanwhile
		}
		// "pid (comm) state ppid …": comm may hold spaces and parentheses.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kid, _ := strconv.Atoi(filepath.Base(filepath.Dir(stat)))
			kids = append(kids, kid)
		}
	}
	return kids
}

// onlyChild is the pid of the one child of pid.
func onlyChild(t *testing.T, pid int) int {
	t.Helper()
	kids := children(t, pid)
	if len(kids) != 1 {
		t.Fatalf("pid %d has children %v, want one", pid, kids)
	}
	return kids[0]
}
