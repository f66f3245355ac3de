package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/internal/testimage"
)

// sleeper is a role that says when it has started and then sleeps with an
// argument no other process on the machine has, so a leftover is found by
// its command line.
const sleeper = "31337"

// startSleeper starts `nook run sleep` in a fresh project and store and
// returns once the role is running.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	requireImages(t)
	reg := testimage.NewRegistry()
	t.Cleanup(reg.Close)
	img, err := testimage.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reg.Push("test/busybox:latest", img)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	project := filepath.Join(work, "project")
	if err := os.Mkdir(project, 0o755); err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf("image = %q\n[roles.sleep]\ncommand = \"echo started > /work/started; exec sleep %s\"\n", ref, sleeper)
	if err := os.WriteFile(filepath.Join(project, "nook.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	if err := watcher.Add(project); err != nil {
		t.Fatal(err)
	}

	// nook as testscript installs it on $PATH, with nook-init beside it.
	nook, err := exec.LookPath("nook")
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: nook, Args: []string{"nook", "-C", project, "run", "sleep"}, Stderr: &bytes.Buffer{}}
	cmd.Env = append(os.Environ(), "NOOK_HOME="+filepath.Join(work, "store"), "NOOK_CONFIG="+filepath.Join(work, "config.toml"), "XDG_RUNTIME_DIR="+work)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	timeout := time.After(60 * time.Second)
	for {
		select {
		case ev := <-watcher.Events:
			if filepath.Base(ev.Name) == "started" {
				return cmd
			}
		case err := <-watcher.Errors:
			t.Fatal(err)
		case <-timeout:
			t.Fatalf("the role did not start: %s", cmd.Stderr)
		}
	}
}

// leftovers lists the processes still running the sleeper.
func leftovers(t *testing.T) []string {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var found []string
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Equal(b, []byte("sleep\x00"+sleeper+"\x00")) {
			found = append(found, p)
		}
	}
	return found
}

// children lists the pids of pid's children.
func children(t *testing.T, pid int) []int {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(b)) {
			var c int
			fmt.Sscan(f, &c)
			out = append(out, c)
		}
	}
	return out
}

// TestSigtermForwarded: SIGTERM to nook reaches the command, nook exits 143
// and nothing it started is left running.
func TestSigtermForwarded(t *testing.T) {
	cmd := startSleeper(t)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 143 {
		t.Fatalf("nook ended with %v, want exit status 143; stderr:\n%s", err, cmd.Stderr)
	}
	if left := leftovers(t); len(left) > 0 {
		t.Fatalf("still running after nook exited: %v", left)
	}
}

// TestKillNineLeavesNothing: when nook itself is killed, its init and the
// command die with it.
func TestKillNineLeavesNothing(t *testing.T) {
	cmd := startSleeper(t)
	inits := children(t, cmd.Process.Pid)
	if len(inits) != 1 {
		t.Fatalf("nook has children %v, want one init", inits)
	}
	pidfd, err := unix.PidfdOpen(inits[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// The init's pidfd becomes readable when it has exited, and pid 1 of a
	// namespace exits only after every other process in it is gone.
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 30_000); err != nil || n != 1 {
		t.Fatalf("nook's init did not exit after nook was killed (poll: %d, %v)", n, err)
	}
	if left := leftovers(t); len(left) > 0 {
		t.Fatalf("still running after nook was killed: %v", left)
	}
}
