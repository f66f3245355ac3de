package rootless

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setProcName names this process in ps and /proc/PID/comm, instead of
// "exe", the name it was started under through /proc/self/exe. It writes
// /proc/self/comm, which is the main thread's: prctl(PR_SET_NAME) names
// the calling thread only, and the runtime may have moved the main
// goroutine off the main thread already. prctl is the fallback.
func setProcName(name string) {
	if fd, err := unix.Open("/proc/self/comm", unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
		_, err = unix.Write(fd, []byte(name))
		unix.Close(fd)
		if err == nil {
			return
		}
	}
	b := append([]byte(name), 0)
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0)
}

// Init is the body of nook-init (cmd/nook-init) as a role's init; its main
// calls it first thing when filepath.Base(os.Args[0]) == InitName. It runs
// as pid 1 of the role's namespaces: it checks that it is from nook's
// build (argv[1]), reads the Spec, sets the hostname, brings up loopback,
// applies the mount plan, starts the command, then forwards signals to it
// and reaps every child until it exits, and exits with its status. It
// never returns.
//
// Under the full id map (Spec.IDMap), Init first waits for its map and
// re-executes itself to gain its capabilities (see AwaitIDMap).
func Init() {
	AwaitIDMap()
	// Show as nook-init in ps, not as "exe" (a pod starts it as /proc/self/exe).
	setProcName(InitName)
	// Subscribed before the command starts, so that every signal from then
	// on is held for it, not fatal to the init. Subscribing costs the
	// runtime a round trip per signal with the thread that keeps the
	// signal mask: it runs while the spec is read and the root built.
	// (nook sends nothing before the command runs.)
	sigs := make(chan os.Signal, 16)
	subscribed := subscribe(sigs)
	syscall.CloseOnExec(specFd)
	syscall.CloseOnExec(statusFd)
	status := os.NewFile(statusFd, "nook-init status")

	err := checkBuild()
	var c *command
	if err == nil {
		c, err = prepare()
	}
	if err == nil {
		<-subscribed
		err = c.start()
	}
	if err != nil {
		m := failure(err)
		report(status, m)
		os.Exit(m.Code)
	}
	report(status, startMessage{Started: true})
	status.Close()

	go c.forward(sigs)
	code := reap(c.pid)
	if c.tty != nil {
		c.tty.Stop()
	}
	os.Exit(code)
}

// report sends m to the parent. Without a status pipe (nook-init started
// by hand) a failure goes to stderr instead.
func report(status *os.File, m startMessage) {
	b, _ := json.Marshal(m)
	if _, err := status.Write(b); err != nil && !m.Started {
		fmt.Fprintf(os.Stderr, "nook-init: %s\n", m.Message)
	}
}

// command is the role's process as nook-init starts it.
type command struct {
	path string
	argv []string
	env  []string

	master, slave int       // the pseudo-terminal, with Process.Tty; else -1
	tty           *ttyProxy // copies stdin → master → stdout, with Process.Tty

	fakeOwnership bool          // start the command under the fake-ownership seccomp filter
	cred          *credential   // the role's user, when it is not root (nor you)
	host          *hostIdentity // the role's user is you (HostUser): the nested namespace to start in

	pid   int
	pidfd int // -1 when the kernel has no pidfds
}

// prepare reads the Spec and builds the role's world around the init:
// hostname, loopback, mounts, working directory; then finds the command
// in the new root.
func prepare() (*command, error) {
	f := os.NewFile(specFd, "nook-init spec")
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the role's spec: %w", err)
	}
	var spec Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, fmt.Errorf("decoding the role's spec: %w", err)
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return nil, fmt.Errorf("setting the hostname to %q: %w", spec.Hostname, err)
		}
	}
	// A role of a pod is born in the pod's network namespace (see
	// podServer.serveRun) and finds its loopback up; NewNet is then unset.
	if spec.NewNet {
		if err := loopbackUp(); err != nil {
			return nil, err
		}
	}
	if err := applyPlan(spec.Plan); err != nil {
		return nil, err
	}
	p := spec.Process
	if p.Cwd != "" {
		if err := unix.Chdir(p.Cwd); err != nil {
			return nil, fmt.Errorf("entering the working directory %s: %w", p.Cwd, err)
		}
	}
	c := &command{argv: p.Args, env: p.Env, master: -1, slave: -1, pidfd: -1, fakeOwnership: spec.FakeOwnership}
	if p.Shell {
		// Interactive on a terminal; without one the shell reads a script
		// from stdin, like `docker run -i IMAGE sh`.
		c.argv = []string{"bash"}
		if _, err := lookPath("bash", p.Env); err != nil {
			c.argv[0] = "sh"
		}
		if p.Tty {
			c.argv = append(c.argv, "-i")
		}
	}
	if len(c.argv) == 0 {
		return nil, errors.New("the role has no command to run")
	}
	switch u := p.User; {
	case u == HostUser:
		if c.host, err = newHostIdentity(); err != nil {
			return nil, err
		}
		// The plan made the user exist (mounts.OpUser): its entry gives
		// its name and home.
		you, err := lookupUser("/", strconv.FormatUint(uint64(c.host.uid), 10))
		if err != nil {
			return nil, err
		}
		c.env = withUserEnv(c.env, you)
	case !RootUser(u):
		if c.cred, err = lookupUser("/", u); err != nil {
			return nil, err
		}
		if c.cred.home != "" {
			c.env = withHome(c.env, c.cred.home)
		}
	}
	if c.path, err = lookPath(c.argv[0], p.Env); err != nil {
		return nil, err
	}
	if p.Tty {
		// After the plan, /dev/ptmx is the role's own devpts instance.
		if c.master, c.slave, err = openPty("/dev/ptmx"); err != nil {
			return nil, err
		}
		if err := copyWinsize(0, c.master); err != nil {
			return nil, err
		}
		if c.tty, err = newTTYProxy(c.master, 0, 1); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// start starts the command: on the pseudo-terminal's slave as its
// controlling terminal with a tty, else on the init's own stdio. With
// fakeOwnership, the command inherits the filter from this thread.
func (c *command) start() error {
	if c.fakeOwnership {
		// The filter and no_new_privs are the thread's: fork from it, and
		// never let another goroutine run on it.
		runtime.LockOSThread()
		if err := installFakeOwnership(); err != nil {
			return err
		}
	}
	attr := &syscall.ProcAttr{
		Env:   c.env,
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{PidFD: &c.pidfd},
	}
	if c.cred != nil {
		attr.Sys.Credential = &syscall.Credential{Uid: c.cred.uid, Gid: c.cred.gid, Groups: c.cred.groups}
	}
	if h := c.host; h != nil && h.uid != 0 {
		// Written by this process, root of the parent namespace, before
		// the child goes on; setgroups stays denied, as it must be under
		// the single-id map.
		attr.Sys.Cloneflags |= syscall.CLONE_NEWUSER
		attr.Sys.UidMappings, attr.Sys.GidMappings = h.uidMap, h.gidMap
		attr.Sys.GidMappingsEnableSetgroups = false
	}
	if c.tty != nil {
		s := uintptr(c.slave)
		attr.Files = []uintptr{s, s, s}
		attr.Sys.Setsid = true
		attr.Sys.Setctty = true
		attr.Sys.Ctty = 0
	}
	pid, err := syscall.ForkExec(c.path, c.argv, attr)
	if err != nil {
		return execError(c.path, err)
	}
	c.pid = pid
	if c.tty != nil {
		// Only the command's side holds the slave now, so the master
		// reads EIO once they all have closed it.
		unix.Close(c.slave)
		c.tty.Start()
	}
	return nil
}

// execError explains why execve refused path: 127 when it is not there,
// 126 when it is there but cannot be run.
func execError(path string, err error) error {
	msg := fmt.Sprintf("starting %s: %v", path, err)
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("starting %s: %w", path, err)
	}
	switch errno {
	case syscall.ENOENT:
		if _, serr := os.Stat(path); serr == nil {
			return &StartError{code: exitNotFound, msg: msg,
				hint: fmt.Sprintf("%s exists: its interpreter (the #! line, or the ELF loader) is missing in the image", path)}
		}
		return &StartError{code: exitNotFound, msg: msg}
	case syscall.EACCES, syscall.EPERM, syscall.EISDIR:
		hint := fmt.Sprintf("make %s executable (chmod +x) on a file system that is not mounted noexec", path)
		if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
			hint = fmt.Sprintf("%s is a directory, not a program", path)
		}
		return &StartError{code: exitNotExecutable, msg: msg, hint: hint}
	case syscall.ENOEXEC:
		return &StartError{code: exitNotExecutable, msg: msg,
			hint: fmt.Sprintf("%s is a program for another machine, or a script without a #! line", path)}
	}
	return &StartError{code: exitNook, msg: msg}
}

// forward relays the signals nook-init receives to the command. With a
// tty, SIGWINCH resizes the pseudo-terminal instead: the kernel then
// signals the terminal's foreground process group itself.
func (c *command) forward(sigs <-chan os.Signal) {
	for sig := range sigs {
		if c.tty != nil && sig == syscall.SIGWINCH {
			_ = copyWinsize(0, c.master)
			continue
		}
		s := sig.(syscall.Signal)
		if c.pidfd >= 0 {
			_ = unix.PidfdSendSignal(c.pidfd, s, nil, 0)
		} else {
			_ = unix.Kill(c.pid, s)
		}
	}
}

// reap waits for every child of the init (zombies re-parented to pid 1
// included) until the command exits, and returns its exit status.
func reap(pid int) int {
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "nook-init: waiting for the command: %v\n", err)
			return exitNook
		}
		if wpid == pid {
			return exitStatus(ws)
		}
	}
}

// withUserEnv sets HOME (as withHome does), USER and LOGNAME (unless the
// image or nook.toml set them) for the user u.
func withUserEnv(env []string, u *credential) []string {
	if u.home != "" {
		env = withHome(env, u.home)
	}
	for _, k := range []string{"USER", "LOGNAME"} {
		if u.name != "" && !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") }) {
			env = append(slices.Clip(env), k+"="+u.name)
		}
	}
	return env
}

// withHome sets HOME to the role user's home directory when it is still
// nook's default (/root): set by the image or nook.toml, it stays.
func withHome(env []string, home string) []string {
	for i, kv := range env {
		if kv == "HOME=/root" {
			out := append([]string(nil), env...)
			out[i] = "HOME=" + home
			return out
		}
	}
	return env
}
