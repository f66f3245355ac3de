package rootless

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/internal/safefile"
)

// JoinPod connects to the project's running pod or starts one. Notice is
// non-empty when the pod was just created and has no outbound network
// ("slirp4netns is not installed: roles have loopback only"); the CLI
// prints it once.
//
// Joining is serialised by a lock in o.Dir, which the pod takes as well
// before it ends: a client never joins a pod that is going away.
func JoinPod(o PodOptions) (*Pod, error) {
	if err := podDir.Make(o.Dir); err != nil {
		return nil, err
	}
	unlock, err := lockPod(o.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	sock := filepath.Join(o.Dir, podSocket)
	conn, err := dialPod(o.Dir)
	created := false
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) {
		// No pod, or one that was killed and left its socket behind.
		if rerr := os.Remove(sock); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return nil, fmt.Errorf("removing the stale pod socket %s: %w", sock, rerr)
		}
		if err = startPod(o); err != nil {
			return nil, err
		}
		created = true
		conn, err = dialPod(o.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to the pod at %s: %w", sock, err)
	}
	if err := sendPodMessage(conn, podRequest{Join: true}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("joining the pod at %s: %w", sock, err)
	}
	var reply podReply
	_, err = recvPodMessage(conn, make([]byte, 64<<10), &reply)
	if err == nil && reply.Hello == nil {
		err = errors.New("no hello")
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("joining the pod at %s: %w", sock, err)
	}
	p := &Pod{dir: o.Dir, pid: reply.Hello.Pid, resolv: reply.Hello.ResolvConf, control: conn}
	if created {
		p.notice = reply.Hello.Notice
	}
	return p, nil
}

// lockPod takes the pod's lock, waiting for it, and returns what releases
// it.
func lockPod(dir string) (unlock func(), err error) {
	name := filepath.Join(dir, podLock)
	f, err := safefile.OpenLock("the pod's lock", name)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", name, err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// startPod starts nook-pod for o, detached from the caller (its own
// session, no terminal, stderr to pod.log), in a user namespace of its own
// like Run's, and waits until it listens.
func startPod(o PodOptions) error {
	path, err := initBinary()
	if err != nil {
		return err
	}
	opts, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("encoding the pod's options: %w", err)
	}
	logName := filepath.Join(o.Dir, podLog)
	log, err := safefile.OpenAppend("the pod's log", logName)
	if err != nil {
		return err
	}
	defer log.Close()
	optR, optW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("making the options pipe for nook-pod: %w", err)
	}
	defer optW.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		optR.Close()
		return fmt.Errorf("making the ready pipe for nook-pod: %w", err)
	}
	defer readyR.Close()
	cmd := &exec.Cmd{
		Path:       path,
		Args:       initArgs(PodName),
		Env:        os.Environ(), // PATH, to find slirp4netns
		Dir:        "/",
		Stdout:     log,
		Stderr:     log,
		ExtraFiles: []*os.File{optR, readyW}, // podOptionsFd, podReadyFd
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:                 syscall.CLONE_NEWUSER,
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
			GidMappingsEnableSetgroups: false,
			Setsid:                     true,
		},
	}
	if o.IDMap == IDMapFull {
		var gate io.Closer
		if gate, err = StartWithFullMap(cmd); err == nil {
			defer gate.Close()
		}
	} else {
		err = startNamespaced(cmd)
	}
	optR.Close()
	readyW.Close()
	if err != nil {
		return err
	}
	// Reap it when it ends while this process still runs.
	go cmd.Wait()
	_, _ = optW.Write(opts)
	optW.Close()
	m, err := readStartMessage(readyR)
	switch {
	case err != nil:
		return fmt.Errorf("reading nook-pod's status: %w", err)
	case m.Code != 0:
		return &StartError{code: m.Code, msg: "starting the pod: " + m.Message, hint: m.Hint}
	case !m.Started:
		return &StartError{code: exitNook, msg: fmt.Sprintf("nook-pod (pid %d) ended before it was ready", cmd.Process.Pid),
			hint: "its log is " + logName}
	}
	return nil
}

// Run has exactly rootless.Run's contract (exit status, errors with
// ExitCode and Hint, signal forwarding, ctx → SIGTERM, StopTimeout →
// SIGKILL, tty raw mode) but starts spec inside the pod, in the pod's
// network namespace when spec.NewNet is set (the host's otherwise),
// publishing ports while it runs. Each Run uses its own connection, which
// carries stdio (as descriptors), signals and the exit status; the role is
// killed when the connection closes, so it dies with its caller.
func (p *Pod) Run(ctx context.Context, spec *Spec, stdio Stdio, ports []Port) (int, error) {
	sock := filepath.Join(p.dir, podSocket)
	var conn *net.UnixConn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	return superviseStart(ctx, spec, stdio, func(cgroup *os.File, subscribed func()) (initProcess, <-chan startMessage, <-chan initEnd, error) {
		var err error
		if conn, err = dialPod(p.dir); err != nil {
			return nil, nil, nil, fmt.Errorf("connecting to the pod at %s: %w", sock, err)
		}
		files, err := stdioFiles(stdio)
		if err != nil {
			return nil, nil, nil, err
		}
		_ = conn.SetWriteBuffer(podMaxMessage)
		run := &podRun{Spec: spec, Ports: ports, Cgroup: cgroup != nil}
		subscribed() // the pod starts the role's init on this request
		if cgroup != nil {
			err = sendPodMessage(conn, podRequest{Run: run}, append(files, cgroup)...)
		} else {
			err = sendPodMessage(conn, podRequest{Run: run}, files...)
		}
		closeOpened(files, stdio)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("sending the role to the pod (pid %d): %w", p.pid, err)
		}
		r := &remoteInit{conn: conn, pod: p.pid}
		messages, exited := r.replies()
		return r, messages, exited, nil
	})
}

// stdioFiles are the files to pass as the role's stdin, stdout and
// stderr: /dev/null for a nil one.
func stdioFiles(stdio Stdio) ([]*os.File, error) {
	files := []*os.File{stdio.In, stdio.Out, stdio.Err}
	for i, f := range files {
		if f != nil {
			continue
		}
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			closeOpened(files[:i], stdio)
			return nil, fmt.Errorf("opening %s: %w", os.DevNull, err)
		}
		files[i] = null
	}
	return files, nil
}

// closeOpened closes the files stdioFiles opened in place of stdio's.
func closeOpened(files []*os.File, stdio Stdio) {
	for _, f := range files {
		if f != stdio.In && f != stdio.Out && f != stdio.Err {
			f.Close()
		}
	}
}

// remoteInit is a role's nook-init in the pod, reached through the role's
// connection.
type remoteInit struct {
	conn *net.UnixConn
	pod  int
}

func (r *remoteInit) Signal(sig os.Signal) error {
	return sendPodMessage(r.conn, podRequest{Signal: int(sig.(syscall.Signal))})
}

func (r *remoteInit) Kill() error { return r.Signal(syscall.SIGKILL) }

// replies reads the pod's replies: one start message and one end each,
// whatever the pod sends or fails to send.
func (r *remoteInit) replies() (<-chan startMessage, <-chan initEnd) {
	messages := make(chan startMessage, 1)
	exited := make(chan initEnd, 1)
	go func() {
		gotMsg := false
		buf := make([]byte, 64<<10)
		for {
			var reply podReply
			_, err := recvPodMessage(r.conn, buf, &reply)
			if err != nil {
				if !gotMsg {
					messages <- startMessage{}
				}
				exited <- initEnd{err: fmt.Errorf("the pod (pid %d) ended the role's connection: %w", r.pod, err)}
				return
			}
			if reply.Start != nil && !gotMsg {
				gotMsg = true
				messages <- *reply.Start
			}
			if reply.Exit != nil {
				if !gotMsg {
					messages <- startMessage{}
				}
				exited <- initEnd{status: syscall.WaitStatus(*reply.Exit)}
				return
			}
		}
	}()
	return messages, exited
}
