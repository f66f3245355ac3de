package main

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/runstate"
)

// killMargin is how long nook stop waits, beyond an owner's grace period,
// for the owner to end before it kills it: the owner needs the time to kill
// its role and reap it.
const killMargin = 5 * time.Second

// terminate sends SIGTERM to the process o names and waits until it has
// ended. A process that is already gone is not an error. With a grace
// period (the one o gives its role between SIGTERM and SIGKILL), o is
// killed when it has not ended after grace and a margin: a `nook run`
// whose role ignores SIGTERM kills it itself after grace, and if it cannot
// (it hangs), its death kills the role.
func terminate(o runstate.Owner, grace time.Duration) error {
	fd, err := unix.PidfdOpen(o.Pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening process %d: %w", o.Pid, err)
	}
	defer unix.Close(fd)
	// The pidfd holds this very process: check it is still the owner.
	if !o.Alive() {
		return nil
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("sending SIGTERM to process %d: %w", o.Pid, err)
	}
	if grace <= 0 {
		return pollEnd(fd, o.Pid, stopWaitLimit)
	}
	if pollEnd(fd, o.Pid, grace+killMargin) == nil {
		return nil
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("sending SIGKILL to process %d: %w", o.Pid, err)
	}
	return pollEnd(fd, o.Pid, stopWaitLimit)
}

// waitEnd waits up to limit for the process o names to end.
func waitEnd(o runstate.Owner, limit time.Duration) error {
	fd, err := unix.PidfdOpen(o.Pid, 0)
	if err != nil {
		return nil // gone already
	}
	defer unix.Close(fd)
	if !o.Alive() {
		return nil
	}
	return pollEnd(fd, o.Pid, limit)
}

// pollEnd waits up to limit for the process of pidfd fd to end.
func pollEnd(fd, pid int, limit time.Duration) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(limit/time.Millisecond))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("waiting for process %d to end: %w", pid, err)
		}
		if n == 0 {
			return fmt.Errorf("process %d did not end within %v", pid, limit)
		}
		return nil
	}
}
