package rootless

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/mounts"
)

// readPodFile reads dir's pod.json.
func readPodFile(t *testing.T, dir string) podFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, podStateFile))
	if err != nil {
		t.Fatal(err)
	}
	var f podFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return f
}

// pidfd opens a pidfd for pid, closed at the end of the test.
func pidfd(t *testing.T, pid int) int {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open(%d): %v", pid, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func TestKilledPodClientKillsItsRole(t *testing.T) {
	dir := newPodDir(t)
	spec := privateSpec(t, hostWorld(t), `echo ready; exec sleep 1000`)
	spec.Role = "sleeper"
	p := startPodClient(t, dir, spec, nil)
	if l := p.line(t); l != "ready" {
		t.Fatalf("first line %q, want ready", l)
	}
	state := readPodFile(t, dir)
	if len(state.Roles) != 1 || state.Roles[0].Role != "sleeper" || state.Project != "test" {
		t.Fatalf("pod.json is %+v, want project test running the role sleeper", state)
	}
	initFd := pidfd(t, state.Roles[0].Pid)
	cmdFd := pidfd(t, onlyChild(t, state.Roles[0].Pid))
	podFd := pidfd(t, state.Pid)

	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	for _, w := range []struct {
		name string
		fd   int
	}{{"the role's nook-init", initFd}, {"the role's command", cmdFd}, {"the pod, now without roles or clients", podFd}} {
		if !exits(t, w.fd, 10*time.Second) {
			t.Errorf("%s still runs 10s after its client was killed", w.name)
		}
	}
	for _, name := range []string{podSocket, podStateFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is left after the pod ended (%v)", name, err)
		}
	}
}

func TestPodEndsAfterItsLastRole(t *testing.T) {
	dir := newPodDir(t)
	w := hostWorld(t)
	pod, err := JoinPod(PodOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	watchPod(dir, pod.Pid())
	first := pod.Pid()
	podFd := pidfd(t, first)
	before := netnsOf(t, pod, w)

	// A role still running keeps the pod after its Pod is closed.
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inR.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	spec := privateSpec(t, w, `echo ready; read l`)
	role := make(chan result, 1)
	go func() {
		code, err := pod.Run(context.Background(), spec, Stdio{In: inR, Out: outW}, nil)
		outW.Close()
		role <- result{code, err}
	}()
	if l, err := bufio.NewReader(outR).ReadString('\n'); l != "ready\n" || err != nil {
		t.Fatalf("the role said %q (%v), want ready", l, err)
	}
	pod.Close()
	again := joinPod(t, dir)
	if again.Pid() != first {
		t.Fatalf("a join while a role runs started pod %d, want the running %d", again.Pid(), first)
	}
	if ns := netnsOf(t, again, w); ns != before {
		t.Errorf("a role of the joined pod is in %s, want the pod's %s", ns, before)
	}
	again.Close()
	inW.WriteString("done\n") // the role reads it and ends
	inW.Close()
	if res := <-role; res.err != nil || res.code != 0 {
		t.Fatalf("the role: status %d, error %v", res.code, res.err)
	}
	if !exits(t, podFd, 10*time.Second) {
		t.Fatal("the pod still runs 10s after its last role ended and its clients closed")
	}

	fresh := joinPod(t, dir)
	if fresh.Pid() == first {
		t.Errorf("the new pod has the old pod's pid %d", first)
	}
	// The old pod's namespace died with it, and the kernel reuses the
	// inode numbers of dead namespaces: compare with the host's instead.
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if after := netnsOf(t, fresh, w); after == host {
		t.Errorf("a role of the new pod is in the host's network namespace %s", after)
	}
}

func TestConcurrentJoinsStartOnePod(t *testing.T) {
	dir := newPodDir(t)
	const n = 6
	pids := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pod, err := JoinPod(PodOptions{Dir: dir})
			if err != nil {
				errs[i] = err
				return
			}
			pids[i] = pod.Pid()
			watchPod(dir, pod.Pid())
			t.Cleanup(func() { pod.Close() })
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("join %d: %v", i, errs[i])
		}
		if pids[i] != pids[0] {
			t.Errorf("joins got pods %v, want one", pids)
			break
		}
	}
}

func TestPodInALongDirectory(t *testing.T) {
	// Longer than a socket address can hold.
	dir := podDirAt(t, filepath.Join(t.TempDir(), strings.Repeat("d", 100), "p"))
	pod := joinPod(t, dir)
	if code, out := mustPodRun(t, pod, privateSpec(t, hostWorld(t), "exit 5")); code != 5 {
		t.Errorf("status %d (output %q), want 5", code, out)
	}
}

func TestJoinReplacesAKilledPod(t *testing.T) {
	dir := newPodDir(t)
	pod, err := JoinPod(PodOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	old := pod.Pid()
	fd := pidfd(t, old)
	if err := unix.Kill(old, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !exits(t, fd, 10*time.Second) {
		t.Fatal("the pod survived SIGKILL")
	}
	pod.Close()
	// Its socket and pod.json are left behind.
	if _, err := os.Stat(filepath.Join(dir, podSocket)); err != nil {
		t.Fatalf("the killed pod's socket: %v", err)
	}
	fresh := joinPod(t, dir)
	if fresh.Pid() == old {
		t.Fatalf("joined the killed pod %d", old)
	}
	if state := readPodFile(t, dir); state.Pid != fresh.Pid() {
		t.Errorf("pod.json names pod %d, want the new %d", state.Pid, fresh.Pid())
	}
	if code, out := mustPodRun(t, fresh, privateSpec(t, hostWorld(t), "exit 4")); code != 4 {
		t.Errorf("status %d (output %q), want 4", code, out)
	}
}

func TestKilledPodClientFreesItsPorts(t *testing.T) {
	dir := newPodDir(t)
	pod := joinPod(t, dir) // keeps the pod up after the client is gone
	hostPort := freePort(t, "tcp")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec := &Spec{Plan: &mounts.Plan{}, NewNet: true, Role: "server",
		Process: Process{Args: []string{exe}, Env: []string{listenEnv + "=127.0.0.1:8080"}, Cwd: "/"}}
	p := startPodClient(t, dir, spec, []Port{{HostIP: "127.0.0.1", HostPort: hostPort, RolePort: 8080, Proto: "tcp"}})
	if l := p.line(t); l != "port 8080" {
		t.Fatalf("first line %q, want the listener's port", l)
	}
	if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", hostPort)); err == nil {
		ln.Close()
		t.Fatalf("port %d is free while its role runs", hostPort)
	}
	watch := watchDir(t, dir)
	p.cmd.Process.Kill()
	p.cmd.Wait()
	// The pod unpublishes the ports, then rewrites pod.json without the role.
	for len(readPodFile(t, dir).Roles) != 0 {
		watch.next(t)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", hostPort))
	if err != nil {
		t.Fatalf("port %d still taken after its client was killed: %v", hostPort, err)
	}
	ln.Close()
	if state := readPodFile(t, dir); state.Pid != pod.Pid() {
		t.Errorf("pod.json names pod %d, want %d, still joined by the test", state.Pid, pod.Pid())
	}
}

// dirWatch reports files renamed into a directory (pod.json is written
// by a rename).
type dirWatch struct{ fd int }

func watchDir(t *testing.T, dir string) *dirWatch {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MOVED_TO); err != nil {
		t.Fatal(err)
	}
	return &dirWatch{fd: fd}
}

// next waits for the next rename into the directory (bounded, for a
// failing test).
func (w *dirWatch) next(t *testing.T) {
	t.Helper()
	waitReadable(t, w.fd, "no change in the pod's directory for 10s")
	buf := make([]byte, 4096)
	unix.Read(w.fd, buf)
}

// waitReadable waits until fd is readable or at its end, failing the test
// with timeout after 10s.
func waitReadable(t *testing.T, fd int, timeout string) {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 10_000)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal(timeout)
		}
		return
	}
}

func TestPodDropsInheritedDescriptors(t *testing.T) {
	// A pipe of the caller's that is not close-on-exec, as a shell or a
	// CI runner may leave one: the pod, outliving the caller, must not
	// keep it open, or whoever waits for its end waits for the pod.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	pod := joinPod(t, newPodDir(t))
	w.Close()
	waitReadable(t, int(r.Fd()), fmt.Sprintf("the pipe has not ended 10s after the caller closed it: pod %d holds it", pod.Pid()))
}
