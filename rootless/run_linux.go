package rootless

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/term"

	"github.com/nookenv/nook/cgroups"
)

// Run starts spec in new namespaces and waits for it. It returns the
// command's exit status (0–255, 128+N when killed by signal N) with a nil
// error, or a non-nil error for nook's own failures: such an error may
// have ExitCode() int (125 by default; 126 not executable; 127 not found)
// and Hint() string, and the status returned with it is that exit code.
//
// Run forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and
// SIGWINCH to the command; those that arrive while it is being started
// are held and sent once it runs. When ctx is cancelled, the command gets
// SIGTERM and, after spec.StopTimeout, SIGKILL; Run then returns the status
// it ended with, or an error wrapping ctx.Err() if it never started.
// SIGINT or SIGTERM received while the command runs is forwarded and, like
// the end of ctx, kills the command after spec.StopTimeout unless it ended;
// a second one kills it at once. A start that a terminating signal N
// interrupts (after the grace period, or at once on a second one) returns
// 128+N.
//
// With spec.Process.Tty, the caller's terminal (stdio.In) is put in raw
// mode for the run and restored before Run returns.
//
// With spec.IDMap = IDMapFull, Run maps the user's subordinate ids too,
// through newuidmap and newgidmap; without a range or the helpers it fails
// before starting anything, with a Hint.
func Run(ctx context.Context, spec *Spec, stdio Stdio) (int, error) {
	o := initOptions{flags: cloneFlags(spec)}
	switch spec.IDMap {
	case IDMapSingle:
	case IDMapFull:
		var err error
		if o.full, err = loadFullMap(); err != nil {
			return exitNook, err
		}
	default:
		return exitNook, fmt.Errorf("unknown id map %q", spec.IDMap)
	}
	// Pdeathsig fires when the thread that forked the init exits, not the
	// process: keep this goroutine on its thread until the init is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	if spec.NewNet && spec.Outbound {
		// Before the command starts, the namespace gets its outbound link.
		o.afterStart = func(pid int) (func(), error) {
			s, err := startSlirpFor(pid)
			if err != nil {
				return nil, err
			}
			return func() { _ = s.stop() }, nil
		}
	}
	return superviseStart(ctx, spec, stdio, func(cgroup *os.File, subscribed func()) (initProcess, <-chan startMessage, <-chan initEnd, error) {
		o.cgroup, o.subscribed = cgroup, subscribed
		init, err := startInit(spec, stdio, o)
		if err != nil {
			return nil, nil, nil, err
		}
		return init, init.messages, init.exited, nil
	})
}

// rawTerminal puts the caller's terminal in raw mode when the command gets
// a tty, and returns what restores it.
func rawTerminal(spec *Spec, stdio Stdio) (restore func(), err error) {
	if !spec.Process.Tty || stdio.In == nil || !term.IsTerminal(int(stdio.In.Fd())) {
		return func() {}, nil
	}
	// Raw before the command starts, so that none of its input is cooked;
	// ^C typed meanwhile reaches it once it runs.
	fd := int(stdio.In.Fd())
	saved, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("putting the terminal in raw mode: %w", err)
	}
	return func() { term.Restore(fd, saved) }, nil
}

// cloneFlags are the namespaces nook-init starts in when Run starts it.
func cloneFlags(spec *Spec) uintptr {
	flags := uintptr(syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
		syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC)
	if spec.NewNet {
		flags |= syscall.CLONE_NEWNET
	}
	return flags
}

// initOptions say how startInit starts nook-init.
type initOptions struct {
	flags uintptr  // the namespaces to create; with CLONE_NEWUSER, the caller is root in it
	full  *fullMap // with CLONE_NEWUSER: map the user's subordinate ids too (Spec.IDMap)
	// cgroup is the directory of the run's cgroup (Spec.Limits), or nil:
	// nook-init is moved into it before it gets its spec, so before it
	// starts the command.
	cgroup *os.File
	// subscribed, when set, is called right before nook-init is started:
	// it returns once the caller's signals are subscribed (superviseStart).
	subscribed func()
	// afterStart, when set, is called once nook-init runs in its
	// namespaces (id map written) and before it gets its spec, so before
	// the command starts; what it returns is called once nook-init has
	// ended. Its error ends nook-init.
	afterStart func(pid int) (done func(), err error)
}

// localInit is nook-init as a child of this process.
type localInit struct {
	cmd      *exec.Cmd
	messages <-chan startMessage // exactly one
	exited   <-chan initEnd      // exactly one
}

func (l *localInit) Signal(sig os.Signal) error { return l.cmd.Process.Signal(sig) }
func (l *localInit) Kill() error                { return l.cmd.Process.Kill() }

// startInit starts nook-init for spec on stdio and sends it the spec. It
// dies with the calling thread (Pdeathsig): the caller keeps its goroutine
// locked to its thread until the init has ended.
func startInit(spec *Spec, stdio Stdio, o initOptions) (*localInit, error) {
	path, err := initBinary()
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding the role's spec for nook-init: %w", err)
	}
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("making the spec pipe for nook-init: %w", err)
	}
	defer specW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		specR.Close()
		return nil, fmt.Errorf("making the status pipe for nook-init: %w", err)
	}

	extra := []*os.File{specR, statusW} // specFd, statusFd
	attr := &syscall.SysProcAttr{
		Cloneflags: o.flags,
		Setsid:     true,
		Pdeathsig:  syscall.SIGKILL,
	}
	if o.flags&syscall.CLONE_NEWUSER != 0 {
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        initArgs(InitName),
		Env:         []string{},
		Stdin:       stdio.In,
		Stdout:      stdio.Out,
		Stderr:      stdio.Err,
		ExtraFiles:  extra,
		SysProcAttr: attr,
	}
	if o.subscribed != nil {
		o.subscribed()
	}
	var gate io.Closer
	if o.full != nil {
		gate, err = o.full.start(cmd)
	} else {
		err = startNamespaced(cmd)
	}
	specR.Close()
	statusW.Close()
	if err != nil {
		statusR.Close()
		return nil, err
	}
	// abandon ends the init, which has not got its spec yet, on err.
	abandon := func(err error) (*localInit, error) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if gate != nil {
			gate.Close()
		}
		statusR.Close()
		return nil, err
	}
	if o.cgroup != nil {
		if err := cgroups.AddProcess(o.cgroup, cmd.Process.Pid); err != nil {
			return abandon(err)
		}
	}
	afterEnd := func() {}
	if o.afterStart != nil {
		done, err := o.afterStart(cmd.Process.Pid)
		if err != nil {
			return abandon(err)
		}
		afterEnd = done
	}
	// A failed write (the init died early) shows in its exit and message.
	_, _ = specW.Write(payload)
	specW.Close()

	messages := make(chan startMessage, 1)
	go func() {
		defer statusR.Close()
		m, err := readStartMessage(statusR)
		if err != nil {
			m = startMessage{Code: exitNook, Message: fmt.Sprintf("reading nook-init's status: %v", err)}
		}
		messages <- m
	}()
	exited := make(chan initEnd, 1)
	go func() {
		err := cmd.Wait()
		afterEnd()
		if gate != nil {
			gate.Close()
		}
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			exited <- initEnd{err: fmt.Errorf("waiting for nook-init: %w", err)}
			return
		}
		exited <- initEnd{status: cmd.ProcessState.Sys().(syscall.WaitStatus)}
	}()
	return &localInit{cmd: cmd, messages: messages, exited: exited}, nil
}
