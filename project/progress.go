package project

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/nookenv/nook/layers"
)

// progressBar draws one line of pull progress on a terminal: layers done,
// bytes fetched of the image's total, and a bar. It is only made when the
// output is a terminal (SPEC §7).
type progressBar struct {
	out    io.Writer
	ref    string
	layers int
	total  int64
	done   map[string]int64 // bytes read per layer
	ready  int              // layers cached or done
	drawn  time.Time
	ended  bool // the last state is on its own line: what follows (notices, steps) starts a line of its own
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progressBar{out: w, done: map[string]int64{}}
}

// update takes one report from layers.Store.Pull.
func (b *progressBar) update(p layers.Progress) {
	b.ref = p.Ref
	switch p.Phase {
	case layers.PhaseResolved:
		b.layers, b.total = p.Layers, p.Total
	case layers.PhaseFetching:
		b.done[p.Layer] = p.Done
	case layers.PhaseCached, layers.PhaseDone:
		if p.Total > 0 {
			b.done[p.Layer] = p.Total
		}
		b.ready++
	}
	if b.ended {
		return
	}
	// Redraw at most every 100 ms, and always when a layer completes.
	if p.Phase == layers.PhaseFetching && time.Since(b.drawn) < 100*time.Millisecond {
		return
	}
	b.drawn = time.Now()
	b.draw()
	if b.layers > 0 && b.ready >= b.layers {
		b.finish()
	}
}

func (b *progressBar) draw() {
	var got int64
	for _, n := range b.done {
		got += n
	}
	const width = 24
	filled := 0
	if b.total > 0 {
		filled = int(min(got, b.total) * width / b.total)
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	fmt.Fprintf(b.out, "\r\x1b[Kpulling %s [%s] %d/%d layers %s", b.ref, bar, b.ready, b.layers, sizes(got, b.total))
}

// finish leaves the last state on its own line.
func (b *progressBar) finish() {
	if !b.drawn.IsZero() && !b.ended {
		fmt.Fprintln(b.out)
	}
	b.ended = true
}

func sizes(got, total int64) string {
	if total <= 0 {
		return mib(got)
	}
	return mib(got) + "/" + mib(total)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
