package rootless

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// tunDevice is the device slirp4netns needs to open in the namespace; a
// variable so that tests can make it missing.
var tunDevice = "/dev/net/tun"

// slirp is a running slirp4netns giving a pod's namespace outbound traffic
// through the host's network: a tap device with 10.0.2.100/24, the gateway
// 10.0.2.2 and a DNS forwarder on 10.0.2.3.
type slirp struct {
	cmd   *exec.Cmd
	exitW *os.File // closing it ends slirp4netns (its --exit-fd); so does nook-pod dying
	done  chan error

	stopOnce sync.Once
	stopErr  error
}

// startSlirp runs slirp4netns for the namespace ns, the distribution's
// binary run directly (rootlesskit's slirp4netns driver runs nsenter and
// ip, which nook does not). It returns nil and a notice for the user when
// slirp4netns is not installed, /dev/net/tun does not open, or slirp4netns
// fails to configure the namespace: the pod then has loopback only.
func startSlirp(ns *os.File, log io.Writer) (*slirp, string) {
	const loopbackOnly = "roles have loopback only, no outbound network"
	path, why := slirpBinary()
	if why != "" {
		return nil, why + ": " + loopbackOnly
	}
	// Confined where it can be, as rootlesskit does, and plain otherwise.
	s, err := runSlirp(path, ns, nil, log, slirpConfinement()...)
	if err != nil {
		s, err = runSlirp(path, ns, nil, log)
	}
	if err != nil {
		return nil, fmt.Sprintf("%v: %s", err, loopbackOnly)
	}
	return s, ""
}

// OutboundRefusal says why a pod's roles would get no outbound network:
// slirp4netns is not found by lookPath, or the tun device (normally
// /dev/net/tun) does not open for reading and writing. It returns
// slirp4netns's path ("" when it is not found) and nil when both are
// fine.
func OutboundRefusal(lookPath func(string) (string, error), tun string) (string, *Refusal) {
	path, err := lookPath("slirp4netns")
	if err != nil {
		return "", &Refusal{
			Problem: "slirp4netns is not installed",
			Fix:     []string{"sudo apt-get install slirp4netns"},
			Or:      []string{"install the slirp4netns package with your distribution's package manager (dnf, zypper, pacman, apk)"},
		}
	}
	f, err := os.OpenFile(tun, os.O_RDWR, 0)
	if err == nil {
		f.Close()
		return path, nil
	}
	r := &Refusal{Problem: fmt.Sprintf("%s cannot be opened (%v)", tun, errors.Unwrap(err))}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Fix = []string{"sudo modprobe tun"}
		r.Keep = []string{"echo tun | sudo tee /etc/modules-load.d/nook-tun.conf"}
		r.Or = []string{"without the module loader: sudo mkdir -p /dev/net && sudo mknod -m 0666 /dev/net/tun c 10 200",
			"(in a container, give it the device: --device /dev/net/tun)"}
	case errors.Is(err, fs.ErrPermission):
		r.Fix = []string{"sudo chmod 0666 " + tun}
		// 0666 is how stock distributions ship it: making an interface
		// with it still takes privileges over a network namespace.
		r.Keep = []string{`echo 'KERNEL=="tun", MODE="0666"' | sudo tee /etc/udev/rules.d/90-nook-tun.rules`}
	}
	return path, r
}

// OutboundUnavailable says why Spec.Outbound cannot work here (slirp4netns
// is not installed, /dev/net/tun does not open), or is "".
func OutboundUnavailable() string {
	_, why := slirpBinary()
	return why
}

// slirpBinary is slirp4netns's path, or why it cannot run here.
func slirpBinary() (path, why string) {
	path, r := OutboundRefusal(exec.LookPath, tunDevice)
	switch {
	case r != nil && path == "":
		return "", r.Problem + " (install the slirp4netns package)"
	case r != nil:
		return "", r.Problem
	}
	return path, ""
}

// OutboundResolvConf is /etc/resolv.conf for a network with outbound
// traffic through slirp4netns: its DNS forwarder.
func OutboundResolvConf() []byte { return []byte(slirpResolvConf) }

// startSlirpFor runs slirp4netns for the network namespace of process pid,
// joining its user namespace first (the namespace belongs to it), and
// waits until the namespace is configured.
func startSlirpFor(pid int) (*slirp, error) {
	path, why := slirpBinary()
	if why != "" {
		return nil, errors.New(why)
	}
	userns, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		return nil, fmt.Errorf("opening the user namespace of %d for slirp4netns: %w", pid, err)
	}
	defer userns.Close()
	netns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return nil, fmt.Errorf("opening the network namespace of %d for slirp4netns: %w", pid, err)
	}
	defer netns.Close()
	s, err := runSlirp(path, netns, userns, io.Discard, slirpConfinement()...)
	if err != nil {
		s, err = runSlirp(path, netns, userns, io.Discard)
	}
	return s, err
}

// slirpConfinement are the options that confine slirp4netns: a seccomp
// filter, and a sandbox (a mount namespace holding little but /etc and
// /run) unless /etc/resolv.conf leads outside those two, where the sandbox
// would blind its DNS forwarder (rootlesskit's rule; slirp4netns#116).
func slirpConfinement() []string {
	opts := []string{"--enable-seccomp"}
	if real, err := filepath.EvalSymlinks("/etc/resolv.conf"); err == nil &&
		(strings.HasPrefix(real, "/etc/") || strings.HasPrefix(real, "/run/")) {
		opts = append(opts, "--enable-sandbox")
	}
	return opts
}

// runSlirp starts slirp4netns at path for the network namespace ns (of
// the user namespace userns, which slirp4netns joins first, when not nil),
// with extra options, and waits until it reports the namespace configured
// on its ready descriptor, or ends.
func runSlirp(path string, ns, userns *os.File, log io.Writer, extra ...string) (*slirp, error) {
	exitR, exitW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("making slirp4netns's exit pipe: %w", err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		exitR.Close()
		exitW.Close()
		return nil, fmt.Errorf("making slirp4netns's ready pipe: %w", err)
	}
	defer readyR.Close()
	stderr := &tailBuffer{max: 4096} // for the error message; slirp4netns runs for the pod's life
	args := []string{
		"slirp4netns",
		"--configure",
		"--mtu=65520",
		"--disable-host-loopback", // the host's 127.0.0.1 stays the host's
		"--exit-fd=3",
		"--ready-fd=4",
		"--netns-type=path",
	}
	files := []*os.File{exitR, readyW, ns} // 3, 4, 5
	if userns != nil {
		args = append(args, "--userns-path=/proc/self/fd/6")
		files = append(files, userns)
	}
	args = append(append(args, extra...), "/proc/self/fd/5", "tap0")
	cmd := &exec.Cmd{
		Path:       path,
		Args:       args,
		Stdout:     log,
		Stderr:     io.MultiWriter(log, stderr),
		ExtraFiles: files,
	}
	err = cmd.Start()
	exitR.Close()
	readyW.Close()
	if err != nil {
		exitW.Close()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	s := &slirp{cmd: cmd, exitW: exitW, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()

	// slirp4netns writes "1" once tap0 is up and configured; the pipe
	// reaches EOF without it when slirp4netns ends first.
	b, _ := io.ReadAll(io.LimitReader(readyR, 1))
	if string(b) != "1" {
		exitW.Close()
		werr := <-s.done
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = fmt.Sprint(werr)
		}
		return nil, fmt.Errorf("slirp4netns failed: %s", lastLine(msg))
	}
	return s, nil
}

// stop ends slirp4netns (closing its exit descriptor) and waits for it.
func (s *slirp) stop() error {
	s.stopOnce.Do(func() {
		s.exitW.Close()
		if err := <-s.done; err != nil {
			s.stopErr = fmt.Errorf("stopping slirp4netns: %w", err)
		}
	})
	return s.stopErr
}

// lastLine is the last line of s.
func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
