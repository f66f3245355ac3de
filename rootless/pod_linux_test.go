package rootless

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/mounts"
)

// listenEnv makes the test binary a tiny server (listenMain): a role's
// command whose readiness the test can see.
const listenEnv = "NOOK_POD_TEST_LISTEN"

// podClientEnv holds a podClientJob as JSON: with it set, the test binary
// is a client of a pod running that job (for tests that kill or signal
// the client).
const podClientEnv = "NOOK_POD_TEST_CLIENT"

// listenMain listens on addr (tcp), says "port N" once it listens, then
// serves one connection: it prints the line it reads as "got LINE" and
// answers "pong".
func listenMain(addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 1
	}
	fmt.Printf("port %d\n", ln.Addr().(*net.TCPAddr).Port)
	c, err := ln.Accept()
	if err != nil {
		fmt.Fprintln(os.Stderr, "accept:", err)
		return 1
	}
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		fmt.Fprintln(os.Stderr, "read:", err)
		return 1
	}
	fmt.Printf("got %s", line)
	io.WriteString(c, "pong\n")
	return 0
}

// podClientJob is what a client process runs (podClientMain).
type podClientJob struct {
	Dir   string `json:"dir"`
	Spec  *Spec  `json:"spec"`
	Ports []Port `json:"ports"`
}

// podClientMain joins the pod and runs the job on the process's stdio,
// exiting as nook would.
func podClientMain(s string) int {
	var job podClientJob
	if err := json.Unmarshal([]byte(s), &job); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 2
	}
	pod, err := JoinPod(PodOptions{Dir: job.Dir, Project: "test"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 2
	}
	defer pod.Close()
	code, err := pod.Run(context.Background(), job.Spec, Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, job.Ports)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
	}
	return code
}

// newPodDir is a fresh pod directory. Before the test's temporary
// directories are removed, it waits for the pods joined there (watchPod)
// to end, as they do once the test's Pods are closed.
func newPodDir(t *testing.T) string {
	return podDirAt(t, filepath.Join(t.TempDir(), "pods", "p"))
}

// podDirAt is newPodDir for dir, under a temporary directory of the test;
// its parent is made (private, as nook makes it), JoinPod makes dir.
func podDirAt(t *testing.T, dir string) string {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		v, _ := podsOfDir.LoadAndDelete(dir)
		pids, _ := v.([]int)
		for _, pid := range pids {
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue // already gone
			}
			if !exits(t, fd, 10*time.Second) {
				t.Errorf("pod %d of %s still runs 10s after the test closed its Pods", pid, dir)
			}
			unix.Close(fd)
		}
	})
	return dir
}

// podsOfDir holds the pids of the pods of each test's pod directory.
var (
	podsMu    sync.Mutex
	podsOfDir sync.Map // dir → []int
)

// watchPod records the pod of pid as one of dir's pods.
func watchPod(dir string, pid int) {
	podsMu.Lock()
	defer podsMu.Unlock()
	v, _ := podsOfDir.Load(dir)
	pids, _ := v.([]int)
	podsOfDir.Store(dir, append(pids, pid))
}

// joinPod joins (or starts) the pod of dir and closes it at the end of the
// test.
func joinPod(t *testing.T, dir string) *Pod {
	t.Helper()
	pod, err := JoinPod(PodOptions{Dir: dir, Project: "test-id", Name: "test"})
	if err != nil {
		t.Fatalf("JoinPod(%s): %v", dir, err)
	}
	watchPod(dir, pod.Pid())
	t.Cleanup(func() { pod.Close() })
	return pod
}

// runInPod runs spec in pod with stdin from /dev/null and returns its status
// and what it wrote to stdout.
func runInPod(t *testing.T, pod *Pod, spec *Spec, ports []Port) (int, string, error) {
	t.Helper()
	return captureStdout(t, func(stdio Stdio) (int, error) { return pod.Run(context.Background(), spec, stdio, ports) })
}

// mustPodRun is podRun for a command expected to start.
func mustPodRun(t *testing.T, pod *Pod, spec *Spec) (int, string) {
	t.Helper()
	code, out, err := runInPod(t, pod, spec, nil)
	if err != nil {
		t.Fatalf("Run(%q) in the pod: %v", spec.Process.Args, err)
	}
	return code, out
}

// privateSpec is w's spec for script in the pod's network.
func privateSpec(t *testing.T, w *world, script string) *Spec {
	spec := w.spec(t, script)
	spec.NewNet = true
	spec.Role = "test"
	return spec
}

// listener is a role running listenMain in the pod.
type listener struct {
	port int
	out  *bufio.Reader
	done chan result
}

// startListener starts listenMain on addr as a role of pod, publishing
// ports, and waits until it listens.
func startListener(t *testing.T, pod *Pod, addr string, ports []Port) *listener {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec := &Spec{
		Plan:    &mounts.Plan{},
		NewNet:  true,
		Role:    "server",
		Process: Process{Args: []string{exe}, Env: []string{listenEnv + "=" + addr}, Cwd: "/"},
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	l := &listener{out: bufio.NewReader(r), done: make(chan result, 1)}
	go func() {
		code, err := pod.Run(context.Background(), spec, Stdio{Out: w, Err: os.Stderr}, ports)
		w.Close()
		l.done <- result{code, err}
	}()
	line, err := l.out.ReadString('\n')
	if _, perr := fmt.Sscanf(line, "port %d\n", &l.port); err != nil || perr != nil {
		t.Fatalf("the listener said %q (%v), want its port", line, err)
	}
	return l
}

// wait returns the listener's status and the rest of its output.
func (l *listener) wait(t *testing.T) (int, string) {
	t.Helper()
	rest, _ := io.ReadAll(l.out)
	res := <-l.done
	if res.err != nil {
		t.Fatalf("the listener's Run: %v", res.err)
	}
	return res.code, string(rest)
}

func TestPodRolesReachEachOtherOnLoopback(t *testing.T) {
	pod := joinPod(t, newPodDir(t))
	l := startListener(t, pod, "127.0.0.1:0", nil)

	// The listener is on the pod's loopback, not on the host's.
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", l.port)); err == nil {
		c.Close()
		t.Errorf("the host reached the role's 127.0.0.1:%d", l.port)
	}

	w := hostWorld(t)
	code, out := mustPodRun(t, pod, privateSpec(t, w, fmt.Sprintf("echo hello | busybox nc 127.0.0.1 %d", l.port)))
	if code != 0 || out != "pong\n" {
		t.Errorf("the client role: status %d, output %q; want 0 and the server's pong", code, out)
	}
	if code, rest := l.wait(t); code != 0 || rest != "got hello\n" {
		t.Errorf("the server role: status %d, output %q; want 0 and the client's line", code, rest)
	}
}

// netnsOf is the network namespace a role of pod is in, as it sees it.
func netnsOf(t *testing.T, pod *Pod, w *world) string {
	t.Helper()
	code, out := mustPodRun(t, pod, privateSpec(t, w, "busybox readlink /proc/self/ns/net"))
	if code != 0 || !strings.HasPrefix(out, "net:[") {
		t.Fatalf("readlink /proc/self/ns/net: status %d, output %q", code, out)
	}
	return strings.TrimSpace(out)
}

func TestSecondJoinSharesThePod(t *testing.T) {
	dir := newPodDir(t)
	first := joinPod(t, dir)
	second := joinPod(t, dir)
	if first.Pid() != second.Pid() {
		t.Fatalf("two joins got pods %d and %d, want one", first.Pid(), second.Pid())
	}
	if second.Notice() != "" {
		t.Errorf("the second join has the notice %q, want none: it did not create the pod", second.Notice())
	}
	// A role on the host's root and one on a busybox root built by the
	// mount plan in the pod's user namespace.
	a := netnsOf(t, first, hostWorld(t))
	b := netnsOf(t, second, busyboxWorld(t))
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if a != b || a == host {
		t.Errorf("roles in network namespaces %s and %s (the host's is %s), want one of the pod's", a, b, host)
	}
	// Without NewNet a role of the pod is on the host's network.
	spec := hostWorld(t).spec(t, "busybox readlink /proc/self/ns/net")
	if _, out := mustPodRun(t, first, spec); strings.TrimSpace(out) != host {
		t.Errorf("a role without NewNet is in %q, want the host's %s", strings.TrimSpace(out), host)
	}
}

func TestPodExitStatus(t *testing.T) {
	pod := joinPod(t, newPodDir(t))
	w := hostWorld(t)
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -KILL $$", 128 + 9},
	} {
		if code, out := mustPodRun(t, pod, privateSpec(t, w, tc.script)); code != tc.want {
			t.Errorf("%s: status %d, want %d (output %q)", tc.script, code, tc.want, out)
		}
	}
	spec := privateSpec(t, w, "")
	spec.Process.Args = []string{"nook-no-such-command"}
	code, _, err := runInPod(t, pod, spec, nil)
	checkStartError(t, "nook-no-such-command", code, err, 127)
}

func TestPodPassesStdio(t *testing.T) {
	pod := joinPod(t, newPodDir(t))
	in, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	inW.WriteString("from stdin\n")
	inW.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	spec := privateSpec(t, hostWorld(t), `read l; echo "out: $l"; echo "err: $l" >&2`)
	code, err := pod.Run(context.Background(), spec, Stdio{In: in, Out: outW, Err: errW}, nil)
	in.Close()
	outW.Close()
	errW.Close()
	stdout, _ := io.ReadAll(outR)
	stderr, _ := io.ReadAll(errR)
	if err != nil || code != 0 {
		t.Fatalf("status %d, error %v", code, err)
	}
	if string(stdout) != "out: from stdin\n" || string(stderr) != "err: from stdin\n" {
		t.Errorf("stdout %q, stderr %q; want the line read from stdin on each", stdout, stderr)
	}
}

func TestPodContextCancel(t *testing.T) {
	pod := joinPod(t, newPodDir(t))
	w := hostWorld(t)
	t.Run("SIGTERM", func(t *testing.T) {
		spec := privateSpec(t, w, `trap 'echo trapped; exit 7' TERM; echo ready; sleep 1000 & wait`)
		if code, out := podRunUntilReady(t, pod, spec); code != 7 || out != "trapped\n" {
			t.Errorf("status %d, output after ready %q; want 7 and the trap's marker", code, out)
		}
	})
	t.Run("SIGKILL after the grace period", func(t *testing.T) {
		spec := privateSpec(t, w, `trap '' TERM; echo ready; while :; do sleep 1; done`)
		spec.StopTimeout = 50 * time.Millisecond
		if code, _ := podRunUntilReady(t, pod, spec); code != 128+int(syscall.SIGKILL) {
			t.Errorf("status %d, want %d", code, 128+int(syscall.SIGKILL))
		}
	})
}

// podRunUntilReady runs spec in pod and cancels its context once the
// command has written "ready"; it returns the status and the output after
// "ready".
func podRunUntilReady(t *testing.T, pod *Pod, spec *Spec) (int, string) {
	t.Helper()
	return untilReady(t, func(ctx context.Context, stdio Stdio) (int, error) { return pod.Run(ctx, spec, stdio, nil) })
}

// startPodClient starts the test binary as a client running spec in the
// pod of dir, on a pipe for its stdout.
func startPodClient(t *testing.T, dir string, spec *Spec, ports []Port) *parent {
	t.Helper()
	return startSelf(t, podClientEnv, podClientJob{Dir: dir, Spec: spec, Ports: ports})
}

func TestPodForwardsSignals(t *testing.T) {
	dir := newPodDir(t)
	spec := privateSpec(t, hostWorld(t), `trap 'echo trapped; exit 7' TERM; echo ready; sleep 1000 & wait`)
	p := startPodClient(t, dir, spec, nil)
	if l := p.line(t); l != "ready" {
		t.Fatalf("first line %q, want ready", l)
	}
	watchPod(dir, readPodFile(t, dir).Pid)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, rest := p.wait(t)
	if code != 7 || strings.TrimSpace(rest) != "trapped" {
		t.Errorf("status %d, output %q; want 7 and the trap's marker", code, rest)
	}
}

func TestPodPublishesPorts(t *testing.T) {
	dir := newPodDir(t)
	pod := joinPod(t, dir)
	hostPort := freePort(t, "tcp")
	ports := []Port{{HostIP: "127.0.0.1", HostPort: hostPort, RolePort: 8080, Proto: "tcp"}}
	l := startListener(t, pod, "127.0.0.1:8080", ports)

	state := readPodFile(t, dir)
	if len(state.Roles) != 1 || len(state.Roles[0].Ports) != 1 || state.Roles[0].Ports[0].HostPort != hostPort ||
		state.Roles[0].Role != "server" {
		t.Errorf("pod.json is %+v, want the role server publishing %d", state, hostPort)
	}
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", hostPort))
	if err != nil {
		t.Fatalf("dialling the published port: %v", err)
	}
	io.WriteString(c, "through the port\n")
	answer, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if answer != "pong\n" {
		t.Errorf("the role answered %q, want pong", answer)
	}
	if code, rest := l.wait(t); code != 0 || rest != "got through the port\n" {
		t.Errorf("the role: status %d, output %q", code, rest)
	}
	// Unpublished once the role has ended.
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", hostPort)); err == nil {
		c.Close()
		t.Errorf("port %d still accepts after its role ended", hostPort)
	}
	if state := readPodFile(t, dir); len(state.Roles) != 0 {
		t.Errorf("pod.json still lists %+v after the role ended", state.Roles)
	}
}

func TestPodRefusesATakenPort(t *testing.T) {
	pod := joinPod(t, newPodDir(t))
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	ports := []Port{{HostIP: "127.0.0.1", HostPort: port, RolePort: 80, Proto: "tcp"}}
	code, out, err := runInPod(t, pod, privateSpec(t, hostWorld(t), "echo started"), ports)
	var coder interface{ ExitCode() int }
	if err == nil || !errors.As(err, &coder) || coder.ExitCode() != 125 || code != 125 {
		t.Fatalf("status %d, error %v; want a failure with exit code 125", code, err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Errorf("error %q does not name port %d", err, port)
	}
	if out != "" {
		t.Errorf("the role ran (output %q) though its port was taken", out)
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		t.Logf("error: %v; hint: %q", err, h.Hint())
	}
}

func TestPodTty(t *testing.T) {
	pod := joinPod(t, newPodDir(t))
	t.Run("inside", func(t *testing.T) { ttyInside(t, busyboxWorld(t), pod) })
	t.Run("ctrl-c", func(t *testing.T) { ttyCtrlC(t, hostWorld(t), pod) })
}

// BenchmarkPodRunTrue is BenchmarkRunTrue through a pod: "joined" runs
// `true` in a pod already running, "cold" joins first (starting nook-pod
// and its network) and waits for the pod to end after each run.
func BenchmarkPodRunTrue(b *testing.B) {
	w := busyboxWorld(b)
	spec := &Spec{Plan: w.plan(b), NewNet: true, Hostname: "bench",
		Process: Process{Args: []string{"true"}, Env: []string{"PATH=" + w.path}, Cwd: "/"}}
	run := func(b *testing.B, pod *Pod) {
		if code, err := pod.Run(context.Background(), spec, Stdio{}, nil); err != nil || code != 0 {
			b.Fatalf("Run: %d, %v", code, err)
		}
	}
	b.Run("joined", func(b *testing.B) {
		pod, err := JoinPod(PodOptions{Dir: filepath.Join(b.TempDir(), "p")})
		if err != nil {
			b.Fatal(err)
		}
		defer pod.Close()
		for b.Loop() {
			run(b, pod)
		}
	})
	b.Run("cold", func(b *testing.B) {
		dir := filepath.Join(b.TempDir(), "p")
		for b.Loop() {
			pod, err := JoinPod(PodOptions{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			fd, err := unix.PidfdOpen(pod.Pid(), 0)
			if err != nil {
				b.Fatal(err)
			}
			run(b, pod)
			pod.Close()
			unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
			unix.Close(fd)
		}
	})
}
