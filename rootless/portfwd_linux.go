package rootless

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/rootless-containers/rootlesskit/v2/pkg/port"
	"github.com/rootless-containers/rootlesskit/v2/pkg/port/builtin"
	opaquekeys "github.com/rootless-containers/rootlesskit/v2/pkg/port/builtin/opaque"
)

// forwarder is rootlesskit's builtin port driver with both halves in this
// process: the parent listens on the host and, for each connection, asks
// the child over a unix socket for a socket connected to the role's port;
// the child makes that socket on a thread that joined the pod's network
// namespace (rootlesskit's detached-netns mode) and passes it back.
type forwarder struct {
	parent     port.ParentDriver
	files      []string // the driver's socket and ready fifo, removed by stop
	quit       chan struct{}
	parentDone chan error
	childDone  chan error
}

// startForwarder starts both halves of the driver, with their socket and
// ready fifo in stateDir, dialling into ns, and returns once the parent has
// reached the child.
func startForwarder(stateDir string, ns *os.File, log io.Writer) (*forwarder, error) {
	parent, err := builtin.NewParentDriver(log, stateDir)
	if err != nil {
		return nil, fmt.Errorf("starting the port forwarder in %s: %w", stateDir, err)
	}
	// The child opens the namespace by this path on each connection; the
	// descriptor stays open as long as the Network does.
	nsPath := fmt.Sprintf("/proc/self/fd/%d", ns.Fd())
	child := builtin.NewChildDriver(log)
	opq := parent.OpaqueForChild()
	f := &forwarder{
		parent:     parent,
		files:      []string{opq[opaquekeys.SocketPath], opq[opaquekeys.ChildReadyPipePath]},
		quit:       make(chan struct{}),
		parentDone: make(chan error, 1),
		childDone:  make(chan error, 1),
	}
	// The socket of a previous pod that was killed would make the child's
	// listen fail.
	if sock := opq[opaquekeys.SocketPath]; sock != "" {
		os.Remove(sock)
	}
	go func() { f.childDone <- child.RunChildDriver(opq, f.quit, nsPath) }()
	ready := make(chan struct{}, 1)
	go func() { f.parentDone <- parent.RunParentDriver(ready, f.quit, nil) }()
	select {
	case <-ready:
		return f, nil
	case err := <-f.childDone:
		// The parent may be left reading the ready fifo, which the failed
		// child never closed; nook-pod ends on this error anyway.
		close(f.quit)
		return nil, fmt.Errorf("starting the port forwarder's child in %s: %w", stateDir, err)
	case err := <-f.parentDone:
		close(f.quit)
		<-f.childDone
		return nil, fmt.Errorf("starting the port forwarder in %s: %w", stateDir, err)
	}
}

// add publishes ports, all or none.
func (f *forwarder) add(ports []Port) (remove func(), err error) {
	ctx := context.Background()
	var ids []int
	removeAll := func() {
		for _, id := range ids {
			f.parent.RemovePort(ctx, id)
		}
	}
	for _, p := range ports {
		st, err := f.parent.AddPort(ctx, port.Spec{
			Proto:      p.Proto,
			ParentIP:   p.HostIP,
			ParentPort: p.HostPort,
			ChildPort:  p.RolePort,
			// Always the pod's loopback: left empty, rootlesskit dials the
			// host address inside the namespace, which it does not have.
			ChildIP: "127.0.0.1",
		})
		if err != nil {
			removeAll()
			return nil, fmt.Errorf("publishing port %s: %w", p, err)
		}
		ids = append(ids, st.ID)
	}
	var once sync.Once
	return func() { once.Do(removeAll) }, nil
}

// stop removes every port still published and stops both halves.
func (f *forwarder) stop() error {
	ctx := context.Background()
	var errs []error
	if ports, err := f.parent.ListPorts(ctx); err == nil {
		for _, p := range ports {
			if err := f.parent.RemovePort(ctx, p.ID); err != nil {
				errs = append(errs, fmt.Errorf("removing port %d: %w", p.Spec.ParentPort, err))
			}
		}
	}
	close(f.quit)
	if err := <-f.parentDone; err != nil {
		errs = append(errs, fmt.Errorf("stopping the port forwarder: %w", err))
	}
	if err := <-f.childDone; err != nil {
		errs = append(errs, fmt.Errorf("stopping the port forwarder's child: %w", err))
	}
	for _, name := range f.files {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// AddPorts publishes ports from the host into the namespace, all or none:
// on an error none of them is published. remove unpublishes them (once;
// later calls do nothing).
func (n *Network) AddPorts(ports []Port) (remove func(), err error) {
	return n.fwd.add(ports)
}

// refusedByRole is how rootlesskit's parent reports that its child could
// not connect to the role's port in the pod: the child replies with its
// error instead of a descriptor, and the parent only sees the descriptor
// missing. The client's connection is then reset.
var refusedByRole = []byte("expected OOB space")

// forwarderLog writes the driver's log lines (one per Write), saying what
// the one a user meets most means.
type forwarderLog struct{ w io.Writer }

func (l forwarderLog) Write(b []byte) (int, error) {
	if !bytes.Contains(b, refusedByRole) {
		return l.w.Write(b)
	}
	line := fmt.Sprintf("%s (the role refused the connection: nothing listened on its port on the pod's loopback; it was reset)\n",
		bytes.TrimRight(b, "\n"))
	if _, err := io.WriteString(l.w, line); err != nil {
		return 0, err
	}
	return len(b), nil
}
