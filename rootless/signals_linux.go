package rootless

import (
	"os"
	"os/signal"
	"syscall"
)

// forwardedSignals go from nook to its init and from the init to the
// command (SPEC §5).
var forwardedSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH,
}

// subscribe subscribes sigs to forwardedSignals in the background and
// returns a channel closed once that is done: subscribing costs the
// runtime a round trip per signal with the thread that keeps the signal
// mask, which the caller spends on its own start meanwhile.
func subscribe(sigs chan<- os.Signal) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		signal.Notify(sigs, forwardedSignals...)
		close(done)
	}()
	return done
}

// terminating reports whether sig asks the process to end: received before
// the command started, it aborts the start instead of waiting for it.
func terminating(sig os.Signal) bool {
	switch sig {
	case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT:
		return true
	}
	return false
}

// stopRequest reports whether sig, sent to a running command, asks it to
// stop (Ctrl-C, `nook stop`): it then gets the grace period to end before
// it is killed. SIGHUP and SIGQUIT are only forwarded (a server may reload
// on SIGHUP, a Go program dumps its goroutines on SIGQUIT).
func stopRequest(sig os.Signal) bool {
	return sig == syscall.SIGINT || sig == syscall.SIGTERM
}

// exitStatus is a shell's view of how a process ended: its exit code, or
// 128+N when signal N killed it.
func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
