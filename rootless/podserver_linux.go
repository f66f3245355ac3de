package rootless

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/internal/safefile"
)

// PodMain is the body of nook-init (cmd/nook-init) as a project's pod; its
// main calls it first thing when filepath.Base(os.Args[0]) == PodName.
// JoinPod starts it in a user namespace of its own, in its own session,
// with nook's build id as argv[1], which it checks as Init does. It makes the
// pod's network, listens on the pod's socket, starts roles on request and
// exits once no role runs and no client is connected. It never returns.
func PodMain() {
	// Started with the full id map, the pod re-executes itself once here.
	awaitIDMap(false)
	setProcName(PodName)
	log.SetFlags(log.LstdFlags)
	log.SetPrefix(fmt.Sprintf("nook-pod[%d]: ", os.Getpid()))
	// No terminal sends these, but a user may: the pod ends with its roles.
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGPIPE)
	syscall.CloseOnExec(podOptionsFd)
	syscall.CloseOnExec(podReadyFd)
	closeInherited()
	ready := os.NewFile(podReadyFd, "nook-pod ready")
	// The pod is nook-init: its roles' inits are its own binary, even if
	// nook-init is replaced on disk while the pod runs.
	initBinary = func() (string, error) { return "/proc/self/exe", nil }

	err := checkBuild()
	var s *podServer
	if err == nil {
		s, err = newPodServer()
	}
	if err != nil {
		m := failure(err)
		b, _ := json.Marshal(m)
		if _, werr := ready.Write(b); werr != nil {
			log.Print(err)
		}
		os.Exit(m.Code)
	}
	b, _ := json.Marshal(startMessage{Started: true})
	_, _ = ready.Write(b)
	ready.Close()
	s.serve()
}

// closeInherited closes the descriptors the first client's process had
// without close-on-exec (a shell's, a test harness's pipe): the pod
// outlives that client and must not keep them open for whoever waits on
// them, nor hand them to roles. The Go runtime's own are close-on-exec.
func closeInherited() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= podReadyFd {
			continue
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			unix.Close(fd)
		}
	}
}

// podServer is the pod process's state.
type podServer struct {
	o     PodOptions
	net   *Network
	ln    *net.UnixListener
	state *podState

	mu     sync.Mutex
	conns  int           // open connections: Pods and running roles
	ending bool          // the pod is going away: refuse new connections
	idle   chan struct{} // a token when conns may have dropped to zero
}

// newPodServer reads the options from JoinPod, makes the network and
// listens on the socket.
func newPodServer() (*podServer, error) {
	f := os.NewFile(podOptionsFd, "nook-pod options")
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the pod's options: %w", err)
	}
	s := &podServer{idle: make(chan struct{}, 1)}
	if err := json.Unmarshal(b, &s.o); err != nil {
		return nil, fmt.Errorf("decoding the pod's options: %w", err)
	}
	if s.net, err = NewNetwork(netStateDir(s.o.Dir), s.o.Outbound); err != nil {
		return nil, err
	}
	sock := filepath.Join(s.o.Dir, podSocket)
	if s.ln, err = listenPod(s.o.Dir); err != nil {
		s.net.Close()
		return nil, fmt.Errorf("listening on %s: %w", sock, err)
	}
	s.state = newPodState(s.o)
	if err := s.state.write(); err != nil {
		s.ln.Close()
		s.net.Close()
		return nil, err
	}
	if n := s.net.Notice(); n != "" {
		log.Print(n)
	}
	return s, nil
}

// netStateDir is the directory for the network's sockets: dir/net, or,
// when that is too long for socket addresses, the same directory reached
// through a descriptor that the pod keeps open for its life.
func netStateDir(dir string) string {
	name := filepath.Join(dir, "net")
	if len(name) < 80 {
		return name
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return name // and NewNetwork says what is wrong with it
	}
	return fmt.Sprintf("/proc/self/fd/%d/net", fd)
}

// serve accepts connections until the pod is idle, then ends the pod and
// exits. Idle is decided under the pod's lock: JoinPod holds it from
// connecting until the pod has greeted it, so a client that joined is
// counted before the pod can find itself idle.
func (s *podServer) serve() {
	go s.accept()
	s.idle <- struct{}{} // the client that started the pod may have died before joining
	for range s.idle {
		unlock, err := lockPod(s.o.Dir)
		if err != nil {
			// The directory is gone (removed by hand): no client can find
			// the pod any more, so it may end as soon as it is idle.
			log.Print(err)
			unlock = func() {}
		}
		s.mu.Lock()
		if s.conns == 0 {
			s.ending = true
			s.mu.Unlock()
			s.end(unlock)
			os.Exit(0)
		}
		s.mu.Unlock()
		unlock()
	}
}

// end removes the socket, the port forwarder and the state, releases the
// pod's lock, then stops the network. Nothing of this pod is in a new
// one's way once the lock is released: the slow part, slirp4netns ending
// (its exit tears down the pod's tap device, tens of milliseconds), no
// longer delays the next nook run.
func (s *podServer) end(unlock func()) {
	s.ln.Close()
	os.Remove(filepath.Join(s.o.Dir, podSocket))
	if err := s.net.StopForwarding(); err != nil {
		log.Print(err)
	}
	s.state.clear()
	unlock()
	if err := s.net.Close(); err != nil {
		log.Print(err)
	}
}

// accept serves each connection in a goroutine of its own.
func (s *podServer) accept() {
	var delay time.Duration // after a failed accept, as net/http's server does
	for {
		c, err := s.ln.AcceptUnix()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of descriptors, say: wait before trying again rather
			// than spin, and say so once per streak.
			if delay == 0 {
				log.Printf("accepting a connection: %v", err)
				delay = 5 * time.Millisecond
			} else {
				delay = min(2*delay, time.Second)
			}
			time.Sleep(delay)
			continue
		}
		delay = 0
		s.mu.Lock()
		if s.ending {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns++
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// serveConn serves a Pod's own connection or a role's, by its first
// message.
func (s *podServer) serveConn(c *net.UnixConn) {
	defer func() {
		c.Close()
		s.mu.Lock()
		s.conns--
		if s.conns == 0 {
			select {
			case s.idle <- struct{}{}:
			default:
			}
		}
		s.mu.Unlock()
	}()
	if !safefile.SameUser(c) {
		log.Printf("refused a connection from another user")
		return
	}
	var req podRequest
	files, err := recvPodMessage(c, make([]byte, podMaxMessage), &req)
	switch {
	case errors.Is(err, io.EOF):
	case err != nil:
		log.Printf("reading a request: %v", err)
	case req.Join:
		closeFiles(files)
		s.serveJoin(c)
	case req.Run != nil:
		s.serveRun(c, req.Run, files)
	default:
		closeFiles(files)
		log.Printf("a connection began with neither join nor run")
	}
}

// serveJoin greets a Pod and holds its connection until it closes.
func (s *podServer) serveJoin(c *net.UnixConn) {
	hello := &podHello{Pid: os.Getpid(), Notice: s.net.Notice(), ResolvConf: s.net.ResolvConf()}
	if err := sendPodMessage(c, podReply{Hello: hello}); err != nil {
		return
	}
	buf := make([]byte, 4096)
	for {
		var req podRequest
		files, err := recvPodMessage(c, buf, &req)
		closeFiles(files)
		if err != nil {
			return
		}
	}
}

// serveRun starts a role and relays its start, signals and end; the role
// is killed when its connection closes.
func (s *podServer) serveRun(c *net.UnixConn, run *podRun, files []*os.File) {
	defer func() { closeFiles(files) }()
	fail := func(err error) {
		m := failure(err)
		_ = sendPodMessage(c, podReply{Start: &m})
	}
	want := 3
	if run.Cgroup {
		want = 4
	}
	if len(files) != want || run.Spec == nil {
		fail(fmt.Errorf("the pod got a role without a spec and stdin, stdout and stderr (%d descriptors)", len(files)))
		return
	}
	spec := run.Spec
	o := initOptions{flags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC}
	if run.Cgroup {
		o.cgroup = files[3]
	}
	inPodNet := spec.NewNet
	spec.NewNet = false // the init makes no network namespace: it is born in the pod's
	ports := make([]Port, len(run.Ports))
	for i, p := range run.Ports {
		if p.Role == "" {
			p.Role = spec.Role
		}
		ports[i] = p
	}
	remove := func() {}
	if len(ports) > 0 {
		var err error
		if remove, err = s.net.AddPorts(ports); err != nil {
			fail(err)
			return
		}
	}

	// Pdeathsig fires when the thread that forked the init exits: keep
	// this goroutine on its thread until the init is gone.
	runtime.LockOSThread()
	if inPodNet {
		// The init is forked from this thread, in the pod's network
		// namespace: every thread of it is there from its first
		// instruction, so /proc/PID/net of the init is the pod's socket
		// table at once (nook up's readiness check reads it). The thread
		// is never unlocked: it ends with this goroutine rather than
		// serve another one in the wrong namespace.
		if err := unix.Setns(int(s.net.NSFile().Fd()), unix.CLONE_NEWNET); err != nil {
			remove()
			fail(fmt.Errorf("entering the pod's network namespace: %w", err))
			return
		}
	} else {
		defer runtime.UnlockOSThread()
	}
	// The role is in pod.json before its command starts, so that whoever
	// it talks to (nook ps, another project's port check) finds it there.
	added := 0
	o.afterStart = func(pid int) (func(), error) {
		if err := s.state.add(podRole{Role: spec.Role, Pid: pid, Ports: ports}); err != nil {
			log.Print(err)
		}
		added = pid
		return func() {}, nil
	}
	init, err := startInit(spec, Stdio{In: files[0], Out: files[1], Err: files[2]}, o)
	if err != nil {
		remove()
		if added != 0 {
			_ = s.state.remove(added)
		}
		if o.cgroup != nil && errors.Is(err, syscall.EACCES) {
			err = &limitsError{err: err, hint: "the pod started in a cgroup from which it may not move processes there (from another login session?): " +
				"stop the project's roles (`nook stop`) so that the next run starts a new pod"}
		}
		fail(err)
		return
	}
	closeFiles(files) // the init has them: the client sees EOF when the role is done
	files = nil
	pid := init.cmd.Process.Pid
	status, ok := s.relay(c, init)
	// Its ports free, then gone from pod.json, before the client learns
	// that the role has ended.
	remove()
	if err := s.state.remove(pid); err != nil {
		log.Print(err)
	}
	if ok {
		_ = sendPodMessage(c, podReply{Exit: &status})
	}
}

// relay passes the init's start message to the client and the client's
// signals to the init until the init has ended, and returns its wait
// status (ok false when it is unknown). When the client goes away, the
// init is killed.
func (s *podServer) relay(c *net.UnixConn, init *localInit) (status uint32, ok bool) {
	signals := make(chan int)
	gone := make(chan struct{})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(gone)
		buf := make([]byte, 4096)
		for {
			var req podRequest
			files, err := recvPodMessage(c, buf, &req)
			closeFiles(files)
			if err != nil {
				return
			}
			if req.Signal != 0 {
				select {
				case signals <- req.Signal:
				case <-stop:
					return
				}
			}
		}
	}()
	gotMsg := false
	for {
		select {
		case m := <-init.messages:
			gotMsg = true
			_ = sendPodMessage(c, podReply{Start: &m})
		case sig := <-signals:
			_ = init.Signal(syscall.Signal(sig))
		case <-gone:
			gone = nil
			_ = init.Kill()
		case end := <-init.exited:
			if !gotMsg {
				m := <-init.messages
				_ = sendPodMessage(c, podReply{Start: &m})
			}
			if end.err != nil {
				log.Print(end.err)
				return 0, false
			}
			return uint32(end.status), true
		}
	}
}
