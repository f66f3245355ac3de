package rootless

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/rootfs"
)

// run runs spec with stdin from /dev/null and returns its status and what
// it wrote to stdout.
func run(t *testing.T, spec *Spec) (int, string, error) {
	t.Helper()
	return captureStdout(t, func(stdio Stdio) (int, error) { return Run(context.Background(), spec, stdio) })
}

// captureStdout calls run with stdin from /dev/null and stdout on a pipe,
// and returns its status, what was written to stdout and its error.
func captureStdout(t *testing.T, run func(Stdio) (int, error)) (int, string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		out <- string(b)
	}()
	code, err := run(Stdio{Out: w, Err: os.Stderr})
	// The pid namespace is gone with its init: nothing else holds w.
	w.Close()
	return code, <-out, err
}

// mustRun is run for a command expected to start.
func mustRun(t *testing.T, spec *Spec) (int, string) {
	t.Helper()
	code, out, err := run(t, spec)
	if err != nil {
		t.Fatalf("Run(%q): %v", spec.Process.Args, err)
	}
	return code, out
}

func TestExitStatus(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		for _, tc := range []struct {
			script string
			want   int
		}{
			{"exit 0", 0},
			{"exit 3", 3},
			{"exit 255", 255},
			{"kill -KILL $$", 128 + 9},
			{"kill -USR1 $$", 128 + 10},
		} {
			if code, out := mustRun(t, w.spec(t, tc.script)); code != tc.want {
				t.Errorf("%s: status %d, want %d (output %q)", tc.script, code, tc.want, out)
			}
		}
	})
}

func TestInitIsPid1(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		code, out := mustRun(t, w.spec(t, `echo $$ && tr '\0' ' ' </proc/1/cmdline`))
		if code != 0 {
			t.Fatalf("status %d, output %q", code, out)
		}
		pid, cmdline, _ := strings.Cut(strings.TrimSpace(out), "\n")
		if pid == "1" || pid == "" {
			t.Errorf("the command's pid is %q, want a pid other than 1", pid)
		}
		if want := InitName + " " + buildID(); cmdline != want {
			t.Errorf("pid 1 runs %q, want %q", cmdline, want)
		}
	})
}

// TestSetProcNameOffTheMainThread names the process from a thread other
// than its main one, where the runtime may well run the main goroutine:
// ps and /proc/PID/comm show the main thread's name.
func TestSetProcNameOffTheMainThread(t *testing.T) {
	saved, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { setProcName(strings.TrimSpace(string(saved))) })
	done := make(chan bool)
	go func() {
		// Holding the main thread when it gets it, this goroutine leaves
		// the next one another thread.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if unix.Gettid() != os.Getpid() {
			setProcName("nook-test-name")
			done <- true
			return
		}
		other := make(chan bool)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			setProcName("nook-test-name")
			other <- unix.Gettid() != os.Getpid()
		}()
		done <- <-other
	}()
	if !<-done {
		t.Fatal("setProcName ran on the main thread")
	}
	if b, _ := os.ReadFile("/proc/self/comm"); string(b) != "nook-test-name\n" {
		t.Errorf("/proc/self/comm is %q after setProcName off the main thread, want nook-test-name", b)
	}
}

func TestHostname(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	forEachWorld(t, func(t *testing.T, w *world) {
		spec := w.spec(t, "hostname")
		spec.Hostname = "nook-hostname-test"
		_, out := mustRun(t, spec)
		if got := strings.TrimSpace(out); got != spec.Hostname {
			t.Errorf("hostname inside is %q, want %q", got, spec.Hostname)
		}
		if after, _ := os.Hostname(); after != host {
			t.Errorf("the host's name changed from %q to %q", host, after)
		}
	})
}

func TestLoopbackWithNewNet(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		spec := w.spec(t, "busybox ip -o link")
		spec.NewNet = true
		code, out := mustRun(t, spec)
		if code != 0 {
			t.Fatalf("status %d, output %q", code, out)
		}
		links := strings.Split(strings.TrimSpace(out), "\n")
		if len(links) != 1 {
			t.Fatalf("interfaces inside:\n%s\nwant only lo", out)
		}
		name, flags := linkFlags(links[0])
		if name != "lo" || !flags["UP"] {
			t.Errorf("interface %s with flags %v, want lo UP", name, flags)
		}
	})
}

// linkFlags parses a line of `ip -o link`: "1: lo: <LOOPBACK,UP,LOWER_UP> mtu …".
func linkFlags(line string) (string, map[string]bool) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return "", nil
	}
	flags := map[string]bool{}
	for _, fl := range strings.Split(strings.Trim(f[2], "<>"), ",") {
		flags[fl] = true
	}
	return strings.TrimSuffix(f[1], ":"), flags
}

func TestZombiesAreReaped(t *testing.T) {
	// A child starts `sleep` and exits at once: sleep is orphaned to
	// pid 1. When it exits, only pid 1 can reap it; until then it is a
	// zombie (state Z). The command waits until sleep's /proc entry is
	// gone (bounded), then checks that no zombie is left in the namespace.
	script := `orphan=$(sh -c 'sleep 0.05 </dev/null >/dev/null 2>&1 & echo $!')
i=0
while [ -e /proc/$orphan ]; do
	i=$((i+1))
	[ $i -lt 2000 ] || { echo "not reaped: $(cat /proc/$orphan/stat)"; exit 1; }
	sleep 0.01
done
for s in /proc/[0-9]*/stat; do
	read -r pid comm state rest <$s 2>/dev/null || continue
	[ "$state" != Z ] || { echo "zombie: $pid $comm"; exit 2; }
done
echo reaped $orphan`
	forEachWorld(t, func(t *testing.T, w *world) {
		code, out := mustRun(t, w.spec(t, script))
		if code != 0 || !strings.HasPrefix(out, "reaped ") {
			t.Fatalf("status %d, output %q", code, out)
		}
	})
}

func TestCommandNotFound(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		for _, name := range []string{"nook-no-such-command", "/nonexistent/nook-no-such-command"} {
			spec := w.spec(t, "")
			spec.Process.Args = []string{name}
			code, _, err := run(t, spec)
			checkStartError(t, name, code, err, 127)
		}
	})
}

func TestCommandNotExecutable(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		file := filepath.Join(w.shared, "not-executable")
		if err := os.WriteFile(file, []byte("#!/bin/sh\necho no\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		names := []string{file, w.shared}
		if w.name == "busybox" {
			names = append(names, "/etc/not-executable") // in the image's layer
		}
		for _, name := range names {
			spec := w.spec(t, "")
			spec.Process.Args = []string{name}
			code, _, err := run(t, spec)
			checkStartError(t, name, code, err, 126)
		}
	})
}

// checkStartError checks that starting name failed with an error naming
// it and carrying exit code want.
func checkStartError(t *testing.T, name string, code int, err error, want int) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: status %d and no error, want an error with exit code %d", name, code, want)
		return
	}
	var coder interface{ ExitCode() int }
	if !errors.As(err, &coder) || coder.ExitCode() != want || code != want {
		t.Errorf("%s: error %q, status %d; want exit code %d", name, err, code, want)
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("error %q does not name %s", err, name)
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		t.Logf("error: %v; hint: %q", err, h.Hint())
	}
}

func TestMountFailureIsReported(t *testing.T) {
	// A bind of a host path that does not exist fails in nook-init; the
	// parent reports the mount error with its hint and exit code 125.
	missing := filepath.Join(t.TempDir(), "missing")
	e := &env.Env{ProjectDir: t.TempDir(), Workdir: "/work", Hostname: "nook-test"}
	r := &env.Role{Name: "test", Mounts: []env.Mount{{Source: missing, Target: "/data"}}}
	plan, err := rootfs.Plan(e, r, &layers.Snapshot{Lowers: []string{busyboxLayer(t)}}, rootfs.Options{Scratch: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	code, _, err := run(t, &Spec{Plan: plan, Process: Process{Args: []string{"true"}, Env: []string{"PATH=/bin"}}})
	var se *StartError
	if !errors.As(err, &se) || se.ExitCode() != 125 || code != 125 || !strings.Contains(err.Error(), missing) {
		t.Fatalf("status %d, error %v; want a start error naming %s with exit code 125", code, err, missing)
	}
	t.Logf("error: %v; hint: %q", err, se.Hint())
}

func TestWorkingDirectory(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		spec := w.spec(t, "pwd")
		spec.Process.Cwd = w.shared
		if _, out := mustRun(t, spec); strings.TrimSpace(out) != w.shared {
			t.Errorf("pwd is %q, want %q", strings.TrimSpace(out), w.shared)
		}
		spec.Process.Cwd = filepath.Join(w.shared, "missing")
		if _, _, err := run(t, spec); err == nil || !strings.Contains(err.Error(), spec.Process.Cwd) {
			t.Errorf("missing working directory: error %v, want one naming %s", err, spec.Process.Cwd)
		}
	})
}

func TestEnvironment(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		spec := w.spec(t, `echo "$NOOK_TEST_VAR"; env | wc -l`)
		spec.Process.Env = append(spec.Process.Env, "NOOK_TEST_VAR=from the spec")
		_, out := mustRun(t, spec)
		// sh adds PWD (and may add SHLVL and _): the command sees the
		// spec's environment, not the parent's.
		val, count, _ := strings.Cut(strings.TrimSpace(out), "\n")
		if val != "from the spec" {
			t.Errorf("NOOK_TEST_VAR is %q", val)
		}
		if n, _ := strconv.Atoi(strings.TrimSpace(count)); n > len(spec.Process.Env)+3 {
			t.Errorf("the command has %d variables, the spec gives %d", n, len(spec.Process.Env))
		}
	})
}

func TestShellPrefersBash(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	forEachWorld(t, func(t *testing.T, w *world) {
		_, bashErr := os.Stat("/bin/bash")
		wantBash := w.name == "host" && bashErr == nil // the busybox root has no bash
		in, inW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		inW.WriteString(`echo "shell:${BASH_VERSION:+bash}"; exit 4` + "\n")
		inW.Close()
		out, outW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		spec := w.spec(t, "")
		spec.Process.Args = nil
		spec.Process.Shell = true
		code, err := Run(context.Background(), spec, Stdio{In: in, Out: outW, Err: null})
		in.Close()
		outW.Close()
		b, _ := io.ReadAll(out)
		out.Close()
		if err != nil || code != 4 {
			t.Fatalf("status %d, error %v; want 4", code, err)
		}
		want := "shell:"
		if wantBash {
			want += "bash"
		}
		// An interactive shell may write a banner and a prompt first.
		got := strings.TrimSpace(string(b))
		if i := strings.LastIndex(got, "shell:"); i >= 0 {
			got = got[i:]
		}
		if got != want {
			t.Errorf("the shell says %q, want %q", got, want)
		}
	})
}

// parent is the test binary running a Spec as nook would, in its own
// process, so that a test can signal or kill it.
type parent struct {
	cmd *exec.Cmd
	out *bufio.Reader
}

func startParent(t *testing.T, spec *Spec) *parent {
	t.Helper()
	return startSelf(t, parentEnv, spec)
}

// startSelf starts the test binary with job as JSON in the environment
// variable envVar (which TestMain acts on), on a pipe for its stdout; it
// is killed at the end of the test if still running.
func startSelf(t *testing.T, envVar string, job any) *parent {
	t.Helper()
	b, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envVar+"="+string(b))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return &parent{cmd: cmd, out: bufio.NewReader(stdout)}
}

// line reads the command's next line of output.
func (p *parent) line(t *testing.T) string {
	t.Helper()
	l, err := p.out.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the command's output: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\n")
}

// wait returns the parent's exit status and the rest of the output.
func (p *parent) wait(t *testing.T) (int, string) {
	t.Helper()
	rest, _ := io.ReadAll(p.out)
	err := p.cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatal(err)
	}
	return p.cmd.ProcessState.ExitCode(), string(rest)
}

func TestSIGTERMIsForwarded(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		p := startParent(t, w.spec(t, `trap 'echo trapped; exit 7' TERM; echo ready; sleep 1000 & wait`))
		if l := p.line(t); l != "ready" {
			t.Fatalf("first line %q, want ready", l)
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		code, rest := p.wait(t)
		if code != 7 || strings.TrimSpace(rest) != "trapped" {
			t.Errorf("status %d, output %q; want 7 and the trap's marker", code, rest)
		}
	})
}

func TestSIGTERMWithoutTrap(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		p := startParent(t, w.spec(t, `echo ready; exec sleep 1000`))
		if l := p.line(t); l != "ready" {
			t.Fatalf("first line %q, want ready", l)
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code, _ := p.wait(t); code != 128+int(syscall.SIGTERM) {
			t.Errorf("status %d, want %d", code, 128+int(syscall.SIGTERM))
		}
	})
}

func TestContextCancelSendsSIGTERM(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		spec := w.spec(t, `trap 'echo trapped; exit 7' TERM; echo ready; sleep 1000 & wait`)
		code, out := runUntilReady(t, spec)
		if code != 7 || out != "trapped\n" {
			t.Errorf("status %d, output after ready %q; want 7 and the trap's marker", code, out)
		}
	})
}

func TestContextCancelKillsAfterGrace(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		spec := w.spec(t, `trap '' TERM; echo ready; while :; do sleep 1; done`)
		spec.StopTimeout = 50 * time.Millisecond
		if code, _ := runUntilReady(t, spec); code != 128+int(syscall.SIGKILL) {
			t.Errorf("status %d, want %d", code, 128+int(syscall.SIGKILL))
		}
	})
}

// runUntilReady runs spec and cancels its context once the command has
// written "ready"; it returns the status and the output after "ready".
func runUntilReady(t *testing.T, spec *Spec) (int, string) {
	t.Helper()
	return untilReady(t, func(ctx context.Context, stdio Stdio) (int, error) { return Run(ctx, spec, stdio) })
}

// untilReady calls run with a context that it cancels once the command
// has written "ready" to stdout; it returns the status and the output
// after "ready".
func untilReady(t *testing.T, run func(context.Context, Stdio) (int, error)) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rest := make(chan string, 1)
	go func() {
		br := bufio.NewReader(r)
		if l, _ := br.ReadString('\n'); l != "ready\n" {
			rest <- "first line " + strconv.Quote(l)
			return
		}
		cancel()
		b, _ := io.ReadAll(br)
		rest <- string(b)
	}()
	code, err := run(ctx, Stdio{Out: w, Err: os.Stderr})
	w.Close()
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return code, <-rest
}
