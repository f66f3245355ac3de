package rootless

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// slirpResolvConf is /etc/resolv.conf for roles whose pod has slirp4netns:
// its built-in DNS forwarder answers on 10.0.2.3.
const slirpResolvConf = "nameserver 10.0.2.3\n"

// Network is a pod's network namespace with its outbound link and its port
// forwarder. It lives in nook-pod, a process in a user namespace of its own
// but still in the host's network namespace: the namespace it makes is
// owned by that user namespace, and the forwarder listens on the host.
type Network struct {
	ns     *os.File
	slirp  *slirp     // nil: loopback only
	fwd    *forwarder // publishes ports
	notice string
	resolv []byte

	closeOnce sync.Once
	closeErr  error
	fwdOnce   sync.Once
	fwdErr    error
}

// NewNetwork makes a network namespace with loopback up, gives it outbound
// traffic through slirp4netns when outbound is set and slirp4netns is
// installed and /dev/net/tun opens (otherwise Notice says why it has
// loopback only), and starts rootlesskit's builtin port driver, both its
// halves in this process, the child side dialling into the namespace.
// stateDir (created 0700) holds the driver's socket and fifo.
//
// The caller must be root of a user namespace (nook-pod) or really root:
// an unprivileged process in the initial user namespace cannot make a
// network namespace.
func NewNetwork(stateDir string, outbound bool) (*Network, error) {
	if err := podDir.Make(stateDir); err != nil {
		return nil, err
	}
	ns, err := newNetNS()
	if err != nil {
		return nil, err
	}
	n := &Network{ns: ns}
	// slirp4netns and the port forwarder start side by side: neither
	// needs the other, and each waits for its own readiness.
	slirpUp := make(chan struct{})
	go func() {
		defer close(slirpUp)
		if outbound {
			n.slirp, n.notice = startSlirp(ns, os.Stderr)
		}
	}()
	n.fwd, err = startForwarder(stateDir, ns, forwarderLog{&prefixWriter{w: os.Stderr, prefix: "port forwarder: "}})
	<-slirpUp
	if n.slirp != nil {
		n.resolv = []byte(slirpResolvConf)
	} else if b, rerr := os.ReadFile("/etc/resolv.conf"); rerr == nil {
		n.resolv = b
	}
	if err != nil {
		if n.slirp != nil {
			n.slirp.stop()
		}
		ns.Close()
		return nil, err
	}
	return n, nil
}

// NSFile is the network namespace, for nook-init to join (setns).
func (n *Network) NSFile() *os.File { return n.ns }

// Notice says why the pod has no outbound traffic when outbound traffic
// was asked for, or is "".
func (n *Network) Notice() string { return n.notice }

// ResolvConf is the /etc/resolv.conf roles of this network should see:
// slirp4netns's DNS forwarder, or the host's file when there is no
// outbound traffic (it does not matter then, and it is what a user knows).
func (n *Network) ResolvConf() []byte { return n.resolv }

// StopForwarding stops publishing ports and removes the forwarder's socket
// and fifo from the state directory, where another Network may then make
// its own; Close does it too.
func (n *Network) StopForwarding() error {
	n.fwdOnce.Do(func() { n.fwdErr = n.fwd.stop() })
	return n.fwdErr
}

// Close stops forwarding every port and stops slirp4netns; the namespace
// itself goes away with the last process in it.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		errs = append(errs, n.StopForwarding())
		if n.slirp != nil {
			errs = append(errs, n.slirp.stop())
		}
		errs = append(errs, n.ns.Close())
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// newNetNS makes a new network namespace with loopback up and returns it
// open. The unshare happens on a locked thread that is then discarded, so
// no other goroutine ever runs in the new namespace by accident.
func newNetNS() (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("making the pod's network namespace: unshare(CLONE_NEWNET): %w", err)}
			return
		}
		if err := loopbackUp(); err != nil {
			done <- result{err: fmt.Errorf("in the pod's network namespace: %w", err)}
			return
		}
		f, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			err = fmt.Errorf("opening the pod's network namespace: %w", err)
		}
		done <- result{f, err}
	}()
	r := <-done
	return r.f, r.err
}

// inNetNS runs fn on a locked thread that joined the network namespace ns;
// the thread is discarded afterwards. Sockets fn makes belong to ns for
// their whole life, whichever thread uses them later.
func inNetNS(ns *os.File, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("joining network namespace %s: %w", ns.Name(), err)
			return
		}
		done <- fn()
	}()
	return <-done
}

// prefixWriter writes each Write, a line from a library's log, behind a
// prefix.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}
