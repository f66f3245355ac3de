package testpeer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/rootless"
)

// serveEnv marks the re-executed test binary as the server.
const serveEnv = "NOOK_TESTPEER_SERVE"

// peerUID is the uid the server takes inside its user namespace: the
// first subordinate uid of the user outside.
const peerUID = 1

// Server is a socket served by another user.
type Server struct {
	UID     int // the server's uid outside its namespace
	cmd     *exec.Cmd
	gate    io.Closer
	reports *bufio.Reader
}

// Serve binds a socket of network ("unix" or "unixpacket") at path and
// serves it as a subordinate uid of the user: the server process calls
// listen(2), so SO_PEERCRED names that uid to a client. An error with a
// Hint means the user has no subordinate range.
func Serve(path, network string) (*Server, error) {
	typ := unix.SOCK_STREAM
	if network == "unixpacket" {
		typ = unix.SOCK_SEQPACKET
	}
	fd, err := unix.Socket(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	sock := os.NewFile(uintptr(fd), path)
	defer sock.Close()
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return nil, fmt.Errorf("binding %s: %w", path, err)
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = []*os.File{sock} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
	r, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	gate, err := rootless.StartWithFullMap(cmd)
	if err != nil {
		return nil, err
	}
	sub, _, _ := rootless.SubIDs() // known good: StartWithFullMap used it
	s := &Server{UID: sub.Start + peerUID - 1, cmd: cmd, gate: gate, reports: bufio.NewReader(r)}
	if line, err := s.reports.ReadString('\n'); err != nil || line != "listening\n" {
		s.Close()
		return nil, fmt.Errorf("starting the server of %s: %q, %v", path, line, err)
	}
	return s, nil
}

// Require is Serve for a test, stopped when the test ends. Without a
// subordinate id range the test is skipped, or fails when CI is set (CI
// gives the user one).
func Require(t testing.TB, path, network string) *Server {
	t.Helper()
	s, err := Serve(path, network)
	var h interface{ Hint() string }
	switch {
	case err != nil && errors.As(err, &h) && os.Getenv("CI") == "":
		t.Skipf("serving a socket as another user needs a subordinate id range: %v", err)
	case err != nil:
		t.Fatalf("serving %s as another user: %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Next waits for the server's report of its next connection, once the
// client has closed it or sent something: the bytes and the descriptors
// the client sent first.
func (s *Server) Next(timeout time.Duration) (bytes, fds int, err error) {
	type report struct {
		bytes, fds int
		err        error
	}
	got := make(chan report, 1)
	go func() {
		var r report
		line, err := s.reports.ReadString('\n')
		if err == nil {
			_, err = fmt.Sscanf(line, "%d %d\n", &r.bytes, &r.fds)
		}
		r.err = err
		got <- r
	}()
	select {
	case r := <-got:
		return r.bytes, r.fds, r.err
	case <-time.After(timeout):
		return 0, 0, errors.New("no connection reported")
	}
}

// Close stops the server.
func (s *Server) Close() error {
	s.cmd.Process.Kill()
	s.cmd.Wait()
	return s.gate.Close()
}

func init() {
	if os.Getenv(serveEnv) != "" {
		serve()
	}
}

// serve is the server's body, run by init before the test binary's
// TestMain. Once its id map is written it takes the subordinate uid,
// listens on the socket it inherited, and for each connection prints what
// drain read: "BYTES FDS".
func serve() {
	rootless.AwaitIDMap()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "testpeer:", err)
		os.Exit(2)
	}
	if err := syscall.Setresgid(peerUID, peerUID, peerUID); err != nil {
		fail(err)
	}
	if err := syscall.Setresuid(peerUID, peerUID, peerUID); err != nil {
		fail(err)
	}
	if err := unix.Listen(3, 8); err != nil {
		fail(err)
	}
	fmt.Println("listening")
	for {
		c, _, err := unix.Accept(3)
		if err != nil {
			fail(err)
		}
		bytes, fds := drain(c)
		unix.Close(c)
		fmt.Println(bytes, fds)
	}
}

// drain reads connection c until the client closes it or sends
// something (then the server closes it at once: a client waiting for an
// answer gets none), counting bytes and passed descriptors (closing them).
func drain(c int) (bytes, fds int) {
	buf := make([]byte, 1<<20)
	oob := make([]byte, unix.CmsgSpace(64*4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(c, buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 && oobn == 0 {
			return bytes, fds
		}
		bytes += n
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if passed, err := unix.ParseUnixRights(&m); err == nil {
					for _, fd := range passed {
						unix.Close(fd)
					}
					fds += len(passed)
				}
			}
		}
		return bytes, fds
	}
}
