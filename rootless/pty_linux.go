package rootless

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// openPty makes a pseudo-terminal pair on the devpts instance that ptmx
// (normally /dev/ptmx) belongs to. Both descriptors are close-on-exec and
// blocking.
func openPty(ptmx string) (master, slave int, err error) {
	master, err = unix.Open(ptmx, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("opening %s: %w", ptmx, err)
	}
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(master)
		return -1, -1, fmt.Errorf("unlocking the pseudo-terminal of %s: %w", ptmx, err)
	}
	// TIOCGPTPEER opens the slave without a path lookup, so it is the
	// slave of this very master whatever is mounted on /dev/pts.
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER,
		uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		unix.Close(master)
		return -1, -1, fmt.Errorf("opening the pseudo-terminal slave of %s: %w", ptmx, errno)
	}
	return master, int(fd), nil
}

// ttyProxy copies the caller's terminal to a pseudo-terminal master and
// the master's output back, as nook-init does for a role with a tty.
type ttyProxy struct {
	master int
	in     int // the caller's terminal (or whatever stdin is)
	out    int
	stopR  int // readable once the command has exited: drain and stop
	stopW  int
	done   chan struct{}
}

// newTTYProxy proxies in and out to master; Start begins copying.
func newTTYProxy(master, in, out int) (*ttyProxy, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("making the terminal proxy's stop pipe: %w", err)
	}
	return &ttyProxy{master: master, in: in, out: out, stopR: p[0], stopW: p[1], done: make(chan struct{})}, nil
}

// Start copies in both directions until Stop.
func (p *ttyProxy) Start() {
	go p.copyInput()
	go p.copyOutput()
}

// Stop drains what the command left in the master, writes it out, and
// returns once the output is copied. Call it after the command exited.
func (p *ttyProxy) Stop() {
	_, _ = unix.Write(p.stopW, []byte{0})
	<-p.done
}

// copyInput copies the caller's input to the command. It ends with the
// input; it may block for good in read, which is harmless in nook-init.
func (p *ttyProxy) copyInput() {
	buf := make([]byte, 32*1024)
	for {
		n, err := unix.Read(p.in, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if n <= 0 {
			return
		}
		if writeAll(p.master, buf[:n]) != nil {
			return
		}
	}
}

// copyOutput copies the master's output until the slave is closed
// everywhere (EIO) or Stop asks it to drain what is buffered and end.
func (p *ttyProxy) copyOutput() {
	defer close(p.done)
	buf := make([]byte, 32*1024)
	fds := []unix.PollFd{{Fd: int32(p.master), Events: unix.POLLIN}, {Fd: int32(p.stopR), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		if fds[0].Revents != 0 && !p.copyOnce(buf) {
			return
		}
		if fds[1].Revents != 0 {
			// The command has exited; an orphan may still hold the slave,
			// so read only what is there. Polling the master flushes the
			// kernel's pending tty buffer work before it answers.
			master := []unix.PollFd{{Fd: int32(p.master), Events: unix.POLLIN}}
			for {
				n, err := unix.Poll(master, 0)
				if errors.Is(err, unix.EINTR) {
					continue
				}
				if err != nil || n == 0 || !p.copyOnce(buf) {
					return
				}
			}
		}
	}
}

// copyOnce copies one read of the master to out; false when the master
// has nothing more to give (EIO: no slave left open) or out failed.
func (p *ttyProxy) copyOnce(buf []byte) bool {
	for {
		n, err := unix.Read(p.master, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if n <= 0 {
			return false
		}
		return writeAll(p.out, buf[:n]) == nil
	}
}

// writeAll writes b to fd, however many writes it takes.
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// copyWinsize sets the size of terminal to to that of from. When from is
// not a terminal, or one that never had a size, to gets 24x80: programs
// inside treat a 0x0 terminal as an error.
func copyWinsize(from, to int) error {
	ws, err := unix.IoctlGetWinsize(from, unix.TIOCGWINSZ)
	if err != nil && !errors.Is(err, unix.ENOTTY) {
		return fmt.Errorf("reading the terminal size: %w", err)
	}
	if err != nil || ws.Row == 0 || ws.Col == 0 {
		ws = &unix.Winsize{Row: 24, Col: 80}
	}
	if err := unix.IoctlSetWinsize(to, unix.TIOCSWINSZ, ws); err != nil {
		return fmt.Errorf("setting the terminal size: %w", err)
	}
	return nil
}
