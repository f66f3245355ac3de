package rootless

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/term"
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
// it ended with, or an error wrapping ctx.Err() if it never started. A
// start that a terminating signal N interrupts (after the grace period, or
// at once on a second one) returns 128+N.
//
// With spec.Process.Tty, the caller's terminal (stdio.In) is put in raw
// mode for the run and restored before Run returns.
//
// With spec.IDMap = IDMapFull, Run maps the user's subordinate ids too,
// through newuidmap and newgidmap; without a range or the helpers it fails
// before starting anything, with a Hint.
func Run(ctx context.Context, spec *Spec, stdio Stdio) (int, error) {
	payload, err := json.Marshal(spec)
	if err != nil {
		return exitNook, fmt.Errorf("encoding the role's spec for nook-init: %w", err)
	}
	var full *fullMap
	switch spec.IDMap {
	case IDMapSingle:
	case IDMapFull:
		if full, err = loadFullMap(); err != nil {
			return exitNook, err
		}
	default:
		return exitNook, fmt.Errorf("unknown id map %q", spec.IDMap)
	}
	specR, specW, err := os.Pipe()
	if err != nil {
		return exitNook, fmt.Errorf("making the spec pipe for nook-init: %w", err)
	}
	defer specW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		specR.Close()
		return exitNook, fmt.Errorf("making the status pipe for nook-init: %w", err)
	}
	defer statusR.Close()

	if spec.Process.Tty && stdio.In != nil && term.IsTerminal(int(stdio.In.Fd())) {
		// Raw before the command starts, so that none of its input is
		// cooked; ^C typed meanwhile reaches it once it runs.
		saved, err := term.MakeRaw(int(stdio.In.Fd()))
		if err != nil {
			specR.Close()
			statusW.Close()
			return exitNook, fmt.Errorf("putting the terminal in raw mode: %w", err)
		}
		defer term.Restore(int(stdio.In.Fd()), saved)
	}

	// Subscribe before the init exists, so that no signal falls between.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)

	// Pdeathsig fires when the thread that forked the init exits, not the
	// process: keep this goroutine on its thread until the init is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{"nook-init"},
		Env:        []string{},
		Stdin:      stdio.In,
		Stdout:     stdio.Out,
		Stderr:     stdio.Err,
		ExtraFiles: []*os.File{specR, statusW}, // specFd, statusFd
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:                 cloneFlags(spec),
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
			GidMappingsEnableSetgroups: false,
			Setsid:                     true,
			Pdeathsig:                  syscall.SIGKILL,
		},
	}
	var gate *idmapGate
	if full != nil {
		if gate, err = full.gate(cmd); err != nil {
			specR.Close()
			statusW.Close()
			return exitNook, err
		}
		defer gate.Close()
	}
	err = cmd.Start()
	specR.Close()
	statusW.Close()
	if err != nil {
		if uerr := newUsernsError(err); uerr != nil {
			return exitNook, uerr
		}
		return exitNook, fmt.Errorf("starting nook-init: %w", err)
	}
	if gate != nil {
		if err := gate.open(cmd.Process.Pid); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return exitNook, err
		}
	}
	// A failed write (the init died early) shows in its exit and message.
	_, _ = specW.Write(payload)
	specW.Close()

	messages := make(chan startMessage, 1)
	go func() {
		m, err := readStartMessage(statusR)
		if err != nil {
			m = startMessage{Code: exitNook, Message: fmt.Sprintf("reading nook-init's status: %v", err)}
		}
		messages <- m
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	s := supervisor{proc: cmd.Process, grace: spec.StopTimeout}
	if s.grace <= 0 {
		s.grace = DefaultStopTimeout
	}
	return s.supervise(ctx, sigs, messages, exited, cmd)
}

// cloneFlags are the namespaces nook-init starts in.
func cloneFlags(spec *Spec) uintptr {
	flags := uintptr(syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
		syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC)
	if spec.NewNet {
		flags |= syscall.CLONE_NEWNET
	}
	return flags
}

// supervisor relays signals and cancellation to a running nook-init.
//
// Until the init reports that the command runs, signals are held, not
// sent: the init may not listen yet, and the command is about to get them.
// A terminating signal or the end of the context then arms a kill after
// the grace period, so that a start that hangs can still be stopped; a
// second terminating signal kills at once.
type supervisor struct {
	proc    *os.Process
	grace   time.Duration
	started bool        // the init reported that the command runs
	pending []os.Signal // signals held until the command runs
	aborted os.Signal   // the first terminating signal received before the start
	ctxErr  error       // the context ended
	kill    *time.Timer // armed by a stop request
}

// supervise waits for the init to exit, relaying signals meanwhile, and
// turns its end into Run's result.
func (s *supervisor) supervise(ctx context.Context, sigs <-chan os.Signal, messages <-chan startMessage,
	exited <-chan error, cmd *exec.Cmd) (int, error) {
	var (
		msg    startMessage
		gotMsg bool
		done   = ctx.Done()
	)
	defer func() {
		if s.kill != nil {
			s.kill.Stop()
		}
	}()
	for {
		select {
		case msg = <-messages:
			gotMsg = true
			if msg.Started {
				s.started = true
				for _, sig := range s.pending {
					_ = s.proc.Signal(sig)
				}
				s.pending = nil
			}
		case sig := <-sigs:
			switch {
			case s.started:
				_ = s.proc.Signal(sig)
			case terminating(sig) && s.aborted != nil:
				_ = s.proc.Kill()
			default:
				s.pending = append(s.pending, sig)
				if terminating(sig) {
					s.aborted = sig
					s.armKill()
				}
			}
		case <-done:
			done = nil
			s.ctxErr = ctx.Err()
			if s.started {
				_ = s.proc.Signal(syscall.SIGTERM)
			} else {
				s.pending = append(s.pending, syscall.SIGTERM)
			}
			s.armKill()
		case <-s.killC():
			_ = s.proc.Kill()
		case waitErr := <-exited:
			if !gotMsg {
				// The status pipe is closed: nothing else held it.
				msg = <-messages
			}
			return s.result(msg, waitErr, cmd)
		}
	}
}

// armKill kills the init after the grace period, unless already armed.
func (s *supervisor) armKill() {
	if s.kill == nil {
		s.kill = time.NewTimer(s.grace)
	}
}

// killC fires when the armed kill is due; nil (never) when unarmed.
func (s *supervisor) killC() <-chan time.Time {
	if s.kill == nil {
		return nil
	}
	return s.kill.C
}

// result is Run's answer once the init has exited.
func (s *supervisor) result(msg startMessage, waitErr error, cmd *exec.Cmd) (int, error) {
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return exitNook, fmt.Errorf("waiting for nook-init: %w", waitErr)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case msg.Started:
		return exitStatus(ws), nil
	case msg.Code != 0:
		return msg.Code, &StartError{code: msg.Code, msg: msg.Message, hint: msg.Hint}
	case s.aborted != nil:
		return 128 + int(s.aborted.(syscall.Signal)), nil
	case s.ctxErr != nil:
		return exitNook, fmt.Errorf("starting the command: %w", s.ctxErr)
	}
	return exitNook, fmt.Errorf("nook-init ended (%s) before starting the command", cmd.ProcessState)
}
