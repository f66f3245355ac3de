package project

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/internal/safefile"
	"github.com/nookenv/nook/runstate"
)

// How often nook up looks again whether a role is ready: soon after the
// start at first (a server is often ready within milliseconds), then less
// and less often, up to readyPoll.
const (
	readyPollFirst = 2 * time.Millisecond
	readyPoll      = 50 * time.Millisecond
)

// readyCheck is how nook up knows that a long-running role with a `ready`
// port is ready: on the host's network, the port accepts a connection on
// loopback; in the pod, a socket of the pod's network namespace listens on
// it (read from /proc/PID/net/tcp{,6} of the role's process, which needs
// no connection — a published port's forwarder would accept one before
// the role listens). nil when the role has no check, and for a role on no
// network, which nothing outside it can reach: it is ready once started.
func readyCheck(e *env.Env, r *env.Role) func(ctx context.Context) error {
	if r.Ready == nil || r.Network == env.NetworkNone {
		return nil
	}
	port := int(r.Ready.Port)
	if r.Network == env.NetworkHost {
		return func(ctx context.Context) error {
			return poll(ctx, func() bool { return acceptsOnLoopback(ctx, port) })
		}
	}
	podDir := PodDir(e.ProjectID)
	return func(ctx context.Context) error {
		return poll(ctx, func() bool {
			for _, pid := range PodRolePids(ReadPodFile(podDir), r.Name) {
				if listensIn(pid, port) {
					return true
				}
			}
			return false
		})
	}
}

// startSettle is how long a long-running role without a `ready` check must
// keep running after its command started before it counts as started, as
// supervisord's startsecs: one that exits at once (a typo, a server that
// daemonises, a port it cannot bind) fails nook up -d instead of passing.
const startSettle = time.Second

// starts tells the readiness check of a role without `ready` when its
// command started. A run's Start and its check get the same context (the
// run's), which keys the run.
type starts struct {
	m sync.Map // by a run's context: a chan struct{} closed once its command runs
}

// notifier is what the run with context ctx calls once its command runs
// (a launch's started), and what the run calls when it ends.
func (s *starts) notifier(ctx context.Context) (started func(), forget func()) {
	ch := s.channel(ctx)
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }, func() { s.m.Delete(ctx) }
}

// check is the readiness check of role r as nook up and nook run apply it
// before r's dependants start: its `ready` port (readyCheck), else, for a
// long-running role, settled; nil for a one-shot role without one.
func (s *starts) check(e *env.Env, r *env.Role) func(context.Context) error {
	if c := readyCheck(e, r); c != nil || !r.LongRunning() {
		return c
	}
	return s.settled
}

// settled is the readiness check of a long-running role without `ready`:
// its command runs, and still runs startSettle later. ctx is the run's: it
// ends when the run does.
func (s *starts) settled(ctx context.Context) error {
	defer s.m.Delete(ctx)
	select {
	case <-s.channel(ctx):
	case <-ctx.Done():
		return ctx.Err()
	}
	t := time.NewTimer(startSettle)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *starts) channel(ctx context.Context) chan struct{} {
	ch, _ := s.m.LoadOrStore(ctx, make(chan struct{}))
	return ch.(chan struct{})
}

// poll calls ok until it reports true or ctx ends: at once, then after
// readyPollFirst, doubling the wait up to readyPoll.
func poll(ctx context.Context, ok func() bool) error {
	wait := readyPollFirst
	t := time.NewTimer(wait)
	defer t.Stop()
	for !ok() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, readyPoll)
		t.Reset(wait)
	}
	return nil
}

// acceptsOnLoopback reports whether port accepts a TCP connection on
// 127.0.0.1 or ::1.
func acceptsOnLoopback(ctx context.Context, port int) bool {
	var d net.Dialer
	for _, host := range []string{"127.0.0.1", "::1"} {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		cancel()
		if err == nil {
			c.Close()
			return true
		}
	}
	return false
}

// PodDir is the run-state directory of the pod of project id.
func PodDir(id string) string {
	return runstate.PodDir(env.RunDir(), id)
}

// PodFile is the part of a pod's pod.json nook up, ps and stop read.
type PodFile struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
	Roles []struct {
		Role string `json:"role"`
		Pid  int    `json:"pid"`
	} `json:"roles"`
}

// ReadPodFile reads the state of the pod in dir; nil when there is no live
// pod.
func ReadPodFile(dir string) *PodFile {
	data, err := safefile.ReadOwned(filepath.Join(dir, "pod.json"))
	if err != nil {
		return nil
	}
	var f PodFile
	if json.Unmarshal(data, &f) != nil || !(runstate.Owner{Pid: f.Pid, Start: f.Start}).Alive() {
		return nil
	}
	return &f
}

// PodRolePids are the pids of role's nook-inits in pod (nil: no live pod).
func PodRolePids(pod *PodFile, role string) []int {
	if pod == nil {
		return nil
	}
	var out []int
	for _, r := range pod.Roles {
		if r.Role == role {
			out = append(out, r.Pid)
		}
	}
	return out
}

// listensIn reports whether a TCP socket listens on port in the network
// namespace of process pid, a role's nook-init: the pod forks it inside
// its network namespace, so /proc/PID/net is the pod's socket table from
// the start. A process still in this process's namespace, the host's, is
// never looked at: there the pod's own forwarder listens on every
// published host port, which with equal host and role ports (8080:8080)
// would pass for the role.
func listensIn(pid, port int) bool {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return false
	}
	if own, err := os.Readlink("/proc/self/ns/net"); err != nil || ns == own {
		return false
	}
	for _, file := range []string{"tcp", "tcp6"} {
		if listensInTable(fmt.Sprintf("/proc/%d/net/%s", pid, file), port) {
			return true
		}
	}
	return false
}

// listensInTable reads a /proc/net/tcp table: "sl local_address
// rem_address st …" with addresses as HEXIP:HEXPORT and st 0A for LISTEN.
func listensInTable(path string, port int) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 3 && fields[3] == "0A" && strings.HasSuffix(fields[1], want) {
			return true
		}
	}
	return false
}
