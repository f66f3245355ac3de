package rootless

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// RemoveName is the name (argv[0]) under which RemoveAll re-executes nook
// to remove a tree as root of a user namespace: main routes it to
// RemoveMain.
const RemoveName = "nook-rm"

// RemoveAll removes path like os.RemoveAll. The tree may hold files that
// you cannot remove as yourself: owned by your subordinate ids (made by a
// build step under the full map), or in directories without write
// permission. On EACCES or EPERM it removes the tree again as root of a
// user namespace that maps your subordinate ids when you have them (else
// just you), in a re-execution of nook as RemoveName; it never runs rm.
func RemoveAll(path string) error {
	err := os.RemoveAll(path)
	if err == nil || !(errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)) {
		return err
	}
	if nserr := removeInUserns(path); nserr != nil {
		return fmt.Errorf("removing %s: %w", path, nserr)
	}
	return nil
}

// removeInUserns runs RemoveMain on path in a new user namespace and waits
// for it.
func removeInUserns(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd := &exec.Cmd{Args: []string{RemoveName, abs}, Env: []string{}, Stderr: &stderr}
	// Pdeathsig follows the thread that forked the child.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	gate, err := StartAsRoot(cmd)
	if err != nil {
		return err
	}
	defer gate.Close()
	if err := cmd.Wait(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return errors.New(msg)
		}
		return fmt.Errorf("%s %s: %w", RemoveName, abs, err)
	}
	return nil
}

// StartAsRoot starts cmd, a re-execution of nook (its Path and
// SysProcAttr are set here; Args[0] names the entry point, which calls
// AwaitIDMap first thing), as root of a new user namespace that maps your
// subordinate ids when you have them, else just you: there it may read,
// change and remove every file of the store, and stat shows the owners a
// role sees. The child dies with the calling thread, which the caller
// keeps locked (runtime.LockOSThread) until cmd has exited; then it
// closes the returned closer.
func StartAsRoot(cmd *exec.Cmd) (io.Closer, error) {
	cmd.Path = "/proc/self/exe"
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	if full, err := loadFullMap(); err == nil {
		return full.start(cmd)
	}
	if err := startNamespaced(cmd); err != nil {
		return nil, err
	}
	return io.NopCloser(nil), nil
}

// RemoveMain is the body of nook re-executed as RemoveName by RemoveAll:
// as root of its user namespace it removes the tree named by its one
// argument and exits 0, or reports on stderr and exits 1. main calls it
// first thing when filepath.Base(os.Args[0]) == RemoveName. It never
// returns.
func RemoveMain() {
	AwaitIDMap()
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s PATH\n", RemoveName)
		os.Exit(2)
	}
	if err := os.RemoveAll(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "as root of a user namespace: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}
