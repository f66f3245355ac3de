package rootless

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// callerTerminal is a pseudo-terminal standing for the terminal nook is
// run from: Run gets the slave as stdio, the test plays the user on the
// master.
type callerTerminal struct {
	master, slave *os.File
	out           *bufio.Reader
	pod           *Pod // run through this pod's Run, else through Run
}

func newCallerTerminal(t *testing.T, rows, cols uint16) *callerTerminal {
	t.Helper()
	m, s, err := openPty("/dev/ptmx")
	if err != nil {
		t.Fatal(err)
	}
	ct := &callerTerminal{master: os.NewFile(uintptr(m), "ptmx"), slave: os.NewFile(uintptr(s), "pts")}
	t.Cleanup(func() { ct.master.Close(); ct.slave.Close() })
	ct.resize(t, rows, cols)
	ct.out = bufio.NewReader(ct.master)
	return ct
}

func (ct *callerTerminal) resize(t *testing.T, rows, cols uint16) {
	t.Helper()
	if err := unix.IoctlSetWinsize(int(ct.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
}

// line reads the next line the command wrote on the terminal.
func (ct *callerTerminal) line(t *testing.T) string {
	t.Helper()
	l, err := ct.out.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the terminal: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// result is what Run returned.
type result struct {
	code int
	err  error
}

// run starts spec on the terminal; Run's result comes on the channel.
func (ct *callerTerminal) run(spec *Spec) <-chan result {
	done := make(chan result, 1)
	go func() {
		stdio := Stdio{In: ct.slave, Out: ct.slave, Err: ct.slave}
		var code int
		var err error
		if ct.pod != nil {
			code, err = ct.pod.Run(context.Background(), spec, stdio, nil)
		} else {
			code, err = Run(context.Background(), spec, stdio)
		}
		done <- result{code, err}
	}()
	return done
}

func TestTtyInside(t *testing.T) {
	forEachWorld(t, testTtyInside)
}

func testTtyInside(t *testing.T, w *world) { ttyInside(t, w, nil) }

// ttyInside checks the terminal inside a role, run through pod when it is
// not nil.
func ttyInside(t *testing.T, w *world, pod *Pod) {
	ct := newCallerTerminal(t, 33, 77)
	ct.pod = pod
	before, err := unix.IoctlGetTermios(int(ct.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	spec := w.spec(t, `tty; stty size; trap 'stty size; exit 0' WINCH; echo ready; sleep 1000 & wait`)
	spec.Process.Tty = true
	done := ct.run(spec)

	if l := ct.line(t); !regexp.MustCompile(`^/dev/pts/[0-9]+$`).MatchString(l) {
		t.Errorf("tty says %q, want /dev/pts/N", l)
	}
	if l := ct.line(t); l != "33 77" {
		t.Errorf("stty size says %q, want 33 77", l)
	}
	if l := ct.line(t); l != "ready" {
		t.Fatalf("got %q, want ready", l)
	}
	// A terminal's resize signals its foreground process group: here, the
	// test, which stands for the shell nook runs in.
	ct.resize(t, 40, 100)
	if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	if l := ct.line(t); l != "40 100" {
		t.Errorf("after the resize, stty size says %q, want 40 100", l)
	}
	if r := <-done; r.err != nil || r.code != 0 {
		t.Fatalf("Run: status %d, error %v", r.code, r.err)
	}
	after, err := unix.IoctlGetTermios(int(ct.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("the caller's terminal was left changed:\nbefore %+v\nafter  %+v", *before, *after)
	}
}

func TestTtyCtrlCReachesTheCommand(t *testing.T) {
	forEachWorld(t, testTtyCtrlC)
}

func testTtyCtrlC(t *testing.T, w *world) { ttyCtrlC(t, w, nil) }

// ttyCtrlC checks that ^C typed reaches a role, run through pod when it is
// not nil.
func ttyCtrlC(t *testing.T, w *world, pod *Pod) {
	ct := newCallerTerminal(t, 24, 80)
	ct.pod = pod
	spec := w.spec(t, `trap 'echo interrupted; exit 5' INT; echo ready; sleep 1000 & wait`)
	spec.Process.Tty = true
	done := ct.run(spec)
	if l := ct.line(t); l != "ready" {
		t.Fatalf("got %q, want ready", l)
	}
	// In raw mode the caller's terminal passes ^C on as a byte; the
	// terminal inside turns it into SIGINT for the command.
	if _, err := ct.master.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	// The terminal inside echoes ^C before the trap writes.
	if l := strings.TrimPrefix(ct.line(t), "^C"); l != "interrupted" {
		t.Fatalf("got %q, want the trap's output", l)
	}
	if r := <-done; r.err != nil || r.code != 5 {
		t.Errorf("Run: status %d, error %v; want 5", r.code, r.err)
	}
}

func TestTtyOutputIsDrained(t *testing.T) {
	forEachWorld(t, testTtyOutputIsDrained)
}

func testTtyOutputIsDrained(t *testing.T, w *world) {
	// The command's output fills a small stdout pipe, so nook-init's copy
	// blocks, and the rest stays in the terminal inside. The test reads
	// nothing until the command has exited: nook-init must then copy
	// what is left instead of exiting with the command.
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := unix.FcntlInt(wr.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(w.shared, "started")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	spec := w.spec(t, `echo >`+fifo+`; exec seq 1 3000`)
	spec.Process.Tty = true
	done := make(chan result, 1)
	go func() {
		code, err := Run(context.Background(), spec, Stdio{Out: wr, Err: wr})
		done <- result{code, err}
	}()
	// Once the fifo is written, nook-init (the one child of this test)
	// runs the command (its one child, unless it has exited already).
	if _, err := os.ReadFile(fifo); err != nil {
		t.Fatal(err)
	}
	for _, pid := range children(t, onlyChild(t, os.Getpid())) {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil { // else: already gone
			exits(t, fd, -1)
			unix.Close(fd)
		}
	}
	lines := make(chan []string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		lines <- strings.Split(strings.TrimSpace(strings.ReplaceAll(string(b), "\r\n", "\n")), "\n")
	}()
	res := <-done
	wr.Close()
	if res.err != nil || res.code != 0 {
		t.Errorf("Run: status %d, error %v", res.code, res.err)
	}
	if all := <-lines; len(all) != 3000 || all[len(all)-1] != "3000" {
		t.Errorf("read %d lines ending %q, want 3000 ending 3000", len(all), all[len(all)-1])
	}
}
