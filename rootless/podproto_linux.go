package rootless

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/internal/safefile"
)

// A pod listens on <Dir>/pod.sock, a SOCK_SEQPACKET unix socket: each
// message is one JSON object in one packet, so message boundaries and the
// descriptors sent with one (SCM_RIGHTS) cannot be mixed up, and a closed
// connection reads as a packet of length zero.
const (
	podSocket    = "pod.sock"
	podLock      = "lock"     // flock: joining and ending the pod are exclusive
	podStateFile = "pod.json" // for ps and CheckPorts
	podLog       = "pod.log"  // nook-pod's stderr

	// podMaxMessage bounds a request: a role's spec with its mount plan.
	// Clients raise their send buffer to carry it.
	podMaxMessage = 1 << 20
)

// The descriptors nook-pod inherits from JoinPod besides stdio.
const (
	podOptionsFd = 3 // client → pod: PodOptions as JSON, then EOF
	podReadyFd   = 4 // pod → client: one startMessage (Started: ready), then EOF
)

// podRequest is what a client sends. The first message on a connection
// is Join (a Pod's own connection, answered by a hello) or Run (a role,
// with the role's stdin, stdout and stderr attached); Signal messages may
// follow a Run.
type podRequest struct {
	Join   bool    `json:"join,omitempty"`
	Run    *podRun `json:"run,omitempty"`
	Signal int     `json:"signal,omitempty"` // send this signal to the role's nook-init
}

// podRun asks the pod to start a role. Its stdin, stdout and stderr come
// with it, and with Cgroup a fourth descriptor: the directory of the
// run's cgroup (Spec.Limits), into which the pod moves the role's
// nook-init before sending it its spec.
type podRun struct {
	Spec   *Spec  `json:"spec"`
	Ports  []Port `json:"ports,omitempty"` // published while the role runs
	Cgroup bool   `json:"cgroup,omitempty"`
}

// podReply is what the pod sends: a hello to a Join; to a Run, one start
// message (the role's command started, or why it did not), then, if
// nook-init was started, its wait status once it has ended.
type podReply struct {
	Hello *podHello     `json:"hello,omitempty"`
	Start *startMessage `json:"start,omitempty"`
	Exit  *uint32       `json:"exit,omitempty"` // syscall.WaitStatus
}

// podHello describes the pod to a client that joins it.
type podHello struct {
	Pid        int    `json:"pid"`
	Notice     string `json:"notice,omitempty"`
	ResolvConf []byte `json:"resolvConf,omitempty"`
}

// podSockAddr is the address of the socket in dir, and what to call once
// it is bound or connected. A path too long for a socket address (108
// bytes) is reached through a descriptor of dir: /proc/self/fd/N/pod.sock.
func podSockAddr(dir string) (addr *net.UnixAddr, done func(), err error) {
	name := filepath.Join(dir, podSocket)
	if len(name) < 100 {
		return &net.UnixAddr{Name: name, Net: "unixpacket"}, func() {}, nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	short := fmt.Sprintf("/proc/self/fd/%d/%s", fd, podSocket)
	return &net.UnixAddr{Name: short, Net: "unixpacket"}, func() { unix.Close(fd) }, nil
}

// podDir is the policy of a pod's run-state directory: private, the
// user's own, as every directory of the run state (SPEC §8a).
var podDir = safefile.Dir{
	What:      "the pod's run-state directory",
	Access:    safefile.Private,
	Elsewhere: "set XDG_RUNTIME_DIR to a directory of your own (mode 0700)",
}

// dialPod connects to the pod's socket in dir, and checks that the user
// serves it before anything (a role's spec, its stdio) is sent: a socket
// someone else put there is refused (safefile.CheckPeer).
func dialPod(dir string) (*net.UnixConn, error) {
	addr, done, err := podSockAddr(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	c, err := net.DialUnix("unixpacket", nil, addr)
	if err != nil {
		return nil, err
	}
	if err := safefile.CheckPeer(c, "the pod's socket", filepath.Join(dir, podSocket)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// listenPod listens on the pod's socket in dir.
func listenPod(dir string) (*net.UnixListener, error) {
	addr, done, err := podSockAddr(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	ln, err := net.ListenUnix("unixpacket", addr)
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false) // the name may be relative to a closed descriptor: the pod removes it by path
	return ln, nil
}

// sendPodMessage sends v as one packet, with files attached.
func sendPodMessage(c *net.UnixConn, v any, files ...*os.File) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > podMaxMessage {
		return fmt.Errorf("a message of %d bytes is more than the pod takes (%d)", len(b), podMaxMessage)
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = syscall.UnixRights(fds...)
	}
	_, _, err = c.WriteMsgUnix(b, oob, nil)
	return err
}

// recvPodMessage reads one packet into v and returns the descriptors that
// came with it, as files. A closed connection is io.EOF.
func recvPodMessage(c *net.UnixConn, buf []byte, v any) ([]*os.File, error) {
	oob := make([]byte, syscall.CmsgSpace(4*4)) // stdio and a cgroup
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	files, ferr := podFiles(oob[:oobn])
	if n == 0 && ferr == nil && len(files) == 0 {
		return nil, io.EOF
	}
	switch {
	case ferr != nil:
		closeFiles(files)
		return nil, ferr
	case flags&(syscall.MSG_TRUNC|syscall.MSG_CTRUNC) != 0:
		closeFiles(files)
		return nil, errors.New("message truncated")
	}
	if err := json.Unmarshal(buf[:n], v); err != nil {
		closeFiles(files)
		return nil, fmt.Errorf("decoding a message: %w", err)
	}
	return files, nil
}

// closeFiles closes the descriptors a message brought.
func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// podFiles are the descriptors of an SCM_RIGHTS control message.
func podFiles(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parsing passed descriptors: %w", err)
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "passed"))
		}
	}
	return files, nil
}
