package layers

import (
	"context"
	"io"
	"sync"
)

// Phase is the step of a pull a Progress report is about.
type Phase int

// The phases of a pull, in the order a layer goes through them.
const (
	// PhaseResolving: the reference is being resolved to an image.
	PhaseResolving Phase = iota
	// PhaseResolved: the image is known; Layers and Total describe it.
	PhaseResolved
	// PhaseCached: the layer is already in the store.
	PhaseCached
	// PhaseWaiting: another pull (this process or another) is fetching the
	// layer; this one waits for it.
	PhaseWaiting
	// PhaseFetching: the layer is being downloaded and unpacked; Done of
	// Total bytes read.
	PhaseFetching
	// PhaseDone: the layer is verified and in the store.
	PhaseDone
)

// String names the phase for display.
func (p Phase) String() string {
	switch p {
	case PhaseResolving:
		return "resolving"
	case PhaseResolved:
		return "resolved"
	case PhaseCached:
		return "already present"
	case PhaseWaiting:
		return "waiting"
	case PhaseFetching:
		return "pulling"
	case PhaseDone:
		return "done"
	}
	return "unknown"
}

// Progress reports the state of a pull, enough for a terminal progress bar.
// Per-layer reports carry the layer; byte counts are of the layer blob as
// stored (compressed), which is what crosses the network.
type Progress struct {
	Ref    string // the reference being pulled, as written
	Phase  Phase
	Digest string // the image's digest, from PhaseResolved on
	Layers int    // number of distinct layers in the image, from PhaseResolved on
	// Layer is the layer's digest ("sha256:…"), or its DiffID when the source
	// has no compressed blob (docker-archive); "" for the image-wide phases.
	Layer string
	Done  int64 // bytes of the layer read so far (PhaseFetching, PhaseDone)
	// Total is the layer's size, or for PhaseResolved the size of all of the
	// image's layers; 0 when unknown.
	Total int64
}

// reporter serialises calls to a PullOptions.Progress function.
type reporter struct {
	mu  sync.Mutex
	fn  func(Progress)
	ref string
}

// report sends p, stamped with the reference, to the progress function.
func (r *reporter) report(p Progress) {
	if r == nil || r.fn == nil {
		return
	}
	p.Ref = r.ref
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(p)
}

// progressReader counts the bytes read from a layer blob, reports them and
// stops with ctx's error once ctx ends, so that reading a local file is as
// cancellable as reading from the network.
type progressReader struct {
	ctx   context.Context
	r     io.Reader
	rep   *reporter
	layer string
	done  int64
	total int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	if n > 0 {
		p.done += int64(n)
		p.rep.report(Progress{Phase: PhaseFetching, Layer: p.layer, Done: p.done, Total: p.total})
	}
	return n, err
}
