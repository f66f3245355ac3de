package layers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultStallTimeout is how long a registry may send nothing — no
// response headers, no bytes of a body being read — before the pull gives
// up on it.
const DefaultStallTimeout = time.Minute

// StallError is a registry that sent nothing for the stall timeout.
type StallError struct {
	Host    string        // the registry, "127.0.0.1:5000"
	What    string        // "blob sha256:…", "manifest latest", or the request's path
	Timeout time.Duration // how long it was silent
}

// Error names the registry and what it was sending.
func (e *StallError) Error() string {
	return fmt.Sprintf("registry %s sent nothing for %s while sending %s: the pull was stopped", e.Host, e.Timeout, e.What)
}

// Hint says what to try.
func (e *StallError) Hint() string {
	return "the registry or the network is stuck: try again later, use a mirror, or wait longer with NOOK_PULL_STALL_TIMEOUT (e.g. NOOK_PULL_STALL_TIMEOUT=5m)"
}

// stallTransport ends a request when the registry sends nothing for
// timeout: before the response's headers, or while a read of its body
// waits. Time the reader spends elsewhere (unpacking) does not count.
type stallTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t *stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	w := newWatchdog(t.timeout, cancel)
	w.arm()
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	w.disarm()
	if err != nil {
		cancel()
		if w.fired() {
			return nil, t.stallError(req)
		}
		return nil, err
	}
	resp.Body = &stallBody{rc: resp.Body, w: w, cancel: cancel, err: func() error { return t.stallError(req) }}
	return resp, nil
}

// stallError is the error of req's registry falling silent.
func (t *stallTransport) stallError(req *http.Request) error {
	what := req.URL.Path
	if i := strings.LastIndex(what, "/blobs/"); i >= 0 {
		what = "blob " + what[i+len("/blobs/"):]
	} else if i := strings.LastIndex(what, "/manifests/"); i >= 0 {
		what = "manifest " + what[i+len("/manifests/"):]
	}
	return &StallError{Host: req.URL.Host, What: what, Timeout: t.timeout}
}

// stallBody is a response body whose reads are watched.
type stallBody struct {
	rc     io.ReadCloser
	w      *watchdog
	cancel context.CancelFunc
	err    func() error
}

func (b *stallBody) Read(p []byte) (int, error) {
	b.w.arm()
	n, err := b.rc.Read(p)
	b.w.disarm()
	if err != nil && err != io.EOF && b.w.fired() {
		return n, b.err()
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.w.disarm()
	b.cancel()
	return b.rc.Close()
}

// watchdog cancels a request when it stays armed for its timeout.
type watchdog struct {
	mu      sync.Mutex
	timeout time.Duration
	timer   *time.Timer
	cancel  context.CancelFunc
	didFire bool
}

func newWatchdog(timeout time.Duration, cancel context.CancelFunc) *watchdog {
	return &watchdog{timeout: timeout, cancel: cancel}
}

// arm starts the countdown.
func (w *watchdog) arm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer == nil {
		w.timer = time.AfterFunc(w.timeout, w.fire)
		return
	}
	w.timer.Reset(w.timeout)
}

// disarm stops it.
func (w *watchdog) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (w *watchdog) fire() {
	w.mu.Lock()
	w.didFire = true
	w.mu.Unlock()
	w.cancel()
}

// fired reports whether the countdown ran out.
func (w *watchdog) fired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.didFire
}
