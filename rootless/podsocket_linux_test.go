package rootless_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/internal/safefile"
	"github.com/nookenv/nook/internal/testpeer"
	"github.com/nookenv/nook/rootless"
)

// podDirOf makes the directories a pod directory sits in, as nook's run
// state does.
func podDirOf(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "pods", "p")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// requireRefused checks that err refuses the socket served by srv, and
// that srv got nothing: no spec, no descriptors.
func requireRefused(t *testing.T, err error, srv *testpeer.Server) {
	t.Helper()
	var unsafe *safefile.UnsafeError
	if !errors.As(err, &unsafe) || !strings.Contains(err.Error(), fmt.Sprintf("served by uid %d", srv.UID)) {
		t.Errorf("error %v, want the socket refused as served by uid %d", err, srv.UID)
	}
	bytes, fds, err := srv.Next(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if bytes != 0 || fds != 0 {
		t.Errorf("the other user's server got %d bytes and %d descriptors, want nothing", bytes, fds)
	}
}

func TestJoinPodRefusesAnotherUsersSocket(t *testing.T) {
	dir := podDirOf(t)
	srv := testpeer.Require(t, filepath.Join(dir, "pod.sock"), "unixpacket")
	pod, err := rootless.JoinPod(rootless.PodOptions{Dir: dir, Project: "p"})
	if err == nil {
		pod.Close()
	}
	requireRefused(t, err, srv)
}

func TestPodRunRefusesAnotherUsersSocket(t *testing.T) {
	// A pod joined, then its socket replaced by one another user serves:
	// the role's spec and stdio go nowhere.
	dir := podDirOf(t)
	pod, err := rootless.JoinPod(rootless.PodOptions{Dir: dir, Project: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer waitPodEnd(t, pod)
	sock := filepath.Join(dir, "pod.sock")
	if err := os.Remove(sock); err != nil {
		t.Fatal(err)
	}
	srv := testpeer.Require(t, sock, "unixpacket")
	spec := &rootless.Spec{Role: "r"}
	code, err := pod.Run(context.Background(), spec, rootless.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, nil)
	if code != 125 {
		t.Errorf("status %d, want 125", code)
	}
	requireRefused(t, err, srv)
}

// waitPodEnd closes pod and waits until its process has ended.
func waitPodEnd(t *testing.T, pod *rootless.Pod) {
	fd, err := unix.PidfdOpen(pod.Pid(), 0)
	pod.Close()
	if err != nil {
		return // gone already
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 10_000); err != nil || n == 0 {
		t.Errorf("pod %d still runs 10s after its Pod was closed", pod.Pid())
	}
}
