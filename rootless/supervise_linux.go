package rootless

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// initProcess is a running nook-init as its supervisor sees it: a local
// child (Run) or a role of a pod, reached through the pod's socket
// (Pod.Run).
type initProcess interface {
	Signal(os.Signal) error
	Kill() error
}

// superviseStart is the caller's side of Run and Pod.Run: it makes the
// run's cgroup when spec has limits, puts the terminal in raw mode for a
// tty, subscribes to the forwarded signals before the init exists (so
// that none falls between), starts the init with start and supervises it
// until it has ended. start gets the cgroup's directory (nil without
// limits), into which nook-init must be moved before it gets its spec,
// and subscribed, which it must call before the init comes to exist; it
// returns the init with its one start message and its one end.
//
// Subscribing costs the runtime a round trip per signal with the thread
// that keeps the signal mask (about 1 ms in all on a loaded machine): it
// runs while start prepares the init (encodes the spec, opens the pipes),
// and subscribed waits for it.
func superviseStart(ctx context.Context, spec *Spec, stdio Stdio,
	start func(cgroup *os.File, subscribed func()) (initProcess, <-chan startMessage, <-chan initEnd, error)) (int, error) {
	cg, err := roleCgroup(spec)
	if err != nil {
		return exitNook, err
	}
	var cgDir *os.File
	if cg != nil {
		defer cg.Remove()
		cgDir = cg.File()
	}
	restore, err := rawTerminal(spec, stdio)
	if err != nil {
		return exitNook, err
	}
	defer restore()
	sigs := make(chan os.Signal, 16)
	notified := subscribe(sigs)
	defer func() {
		<-notified
		signal.Stop(sigs)
	}()
	proc, messages, exited, err := start(cgDir, func() { <-notified })
	if err != nil {
		return exitNook, err
	}
	s := newSupervisor(proc, spec.StopTimeout)
	s.onStart = spec.Started
	code, err := s.supervise(ctx, sigs, messages, exited)
	return outOfMemory(spec, cg, code, err)
}

// initEnd is how nook-init ended: its wait status, or why it is unknown.
type initEnd struct {
	status syscall.WaitStatus
	err    error // waiting failed; already says for what
}

// supervisor relays signals and cancellation to a running nook-init.
//
// Until the init reports that the command runs, signals are held, not
// sent: the init may not listen yet, and the command is about to get them.
// A terminating signal or the end of the context then arms a kill after
// the grace period, so that a start that hangs can still be stopped; a
// second terminating signal kills at once.
//
// Once the command runs, every signal is forwarded; SIGINT and SIGTERM,
// which ask it to stop (Ctrl-C, `nook stop`), also arm the kill after the
// grace period, as the end of the context does, so that a command that
// ignores them still ends; a second one kills at once.
type supervisor struct {
	proc     initProcess
	grace    time.Duration
	started  bool        // the init reported that the command runs
	pending  []os.Signal // signals held until the command runs
	aborted  os.Signal   // the first terminating signal received before the start
	stopSigs int         // stop requests (SIGINT, SIGTERM) received since the start
	ctxErr   error       // the context ended
	kill     *time.Timer // armed by a stop request
	onStart  func()      // called when the command runs (Spec.Started), or nil
}

// newSupervisor supervises proc; grace zero is DefaultStopTimeout.
func newSupervisor(proc initProcess, grace time.Duration) *supervisor {
	if grace <= 0 {
		grace = DefaultStopTimeout
	}
	return &supervisor{proc: proc, grace: grace}
}

// supervise waits for the init to end, relaying signals meanwhile, and
// turns its end into Run's result. messages yields exactly one start
// message (the zero one when the init reported nothing), exited one end.
func (s *supervisor) supervise(ctx context.Context, sigs <-chan os.Signal, messages <-chan startMessage,
	exited <-chan initEnd) (int, error) {
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
				if s.onStart != nil {
					s.onStart()
				}
				for _, sig := range s.pending {
					_ = s.proc.Signal(sig)
				}
				s.pending = nil
			}
		case sig := <-sigs:
			switch {
			case s.started:
				_ = s.proc.Signal(sig)
				if stopRequest(sig) {
					if s.stopSigs++; s.stopSigs > 1 {
						_ = s.proc.Kill()
					}
					s.armKill()
				}
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
		case end := <-exited:
			if !gotMsg {
				msg = <-messages
			}
			return s.result(msg, end)
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

// result is Run's answer once the init has ended.
func (s *supervisor) result(msg startMessage, end initEnd) (int, error) {
	switch {
	case !msg.Started && msg.Code != 0:
		return msg.Code, &StartError{code: msg.Code, msg: msg.Message, hint: msg.Hint}
	case end.err != nil:
		return exitNook, end.err
	case msg.Started:
		return exitStatus(end.status), nil
	case s.aborted != nil:
		return 128 + int(s.aborted.(syscall.Signal)), nil
	case s.ctxErr != nil:
		return exitNook, fmt.Errorf("starting the command: %w", s.ctxErr)
	}
	return exitNook, fmt.Errorf("nook-init ended (%s) before starting the command", describeWait(end.status))
}

// describeWait says how a process ended, as os.ProcessState does.
func describeWait(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "signal: " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}
