package project

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// maxBuildWorkers bounds how many environments build at once: each pulls
// layers in parallel and runs a package manager, so more than a few only
// fight over the network and the disk.
const maxBuildWorkers = 4

// buildAll builds the environments xs (nook build) on top of what the
// store has, several at once (see eachEnvironment).
func (p *Project) buildAll(ctx context.Context, store *layers.Store, xs []*env.Environment, o BuildOptions) error {
	s, err := p.settings()
	if err != nil {
		return err
	}
	return p.eachEnvironment(xs, func(x *env.Environment, out io.Writer, lines bool) error {
		o := o
		o.pullLines = lines
		_, err := buildEnv(ctx, store, p.Env, x, s.lock, s.user, o, out)
		return err
	})
}

// EnsureEnvironments looks up (or builds) the environments the roles run
// in, several at once, before they start: nook up and nook watch, whose
// roles would otherwise build them one at a time as each starts.
func (p *Project) EnsureEnvironments(ctx context.Context, roles []string) error {
	var bs []*built
	var xs []*env.Environment
	for _, n := range roles {
		b := p.built(p.Env.Roles[n])
		if !slices.Contains(bs, b) {
			bs, xs = append(bs, b), append(xs, b.x)
		}
	}
	return p.eachEnvironment(xs, func(x *env.Environment, out io.Writer, lines bool) error {
		return bs[slices.Index(xs, x)].ensureWith(ctx, out, BuildOptions{pullLines: lines})
	})
}

// eachEnvironment calls fn for each environment of xs, at most
// buildWorkers at a time, and returns their errors joined. The project's
// environment alone writes to the project's Progress as it is; otherwise
// each environment's lines are prefixed with its name ("db | …", the
// project's is "project | …") and fn is asked to report pulls as lines
// (a progress bar each would garble the terminal).
func (p *Project) eachEnvironment(xs []*env.Environment, fn func(x *env.Environment, out io.Writer, lines bool) error) error {
	if len(xs) == 1 && xs[0].Name == "" {
		return fn(xs[0], p.Progress, false)
	}
	width := 0
	for _, x := range xs {
		width = max(width, len(envLabel(x)))
	}
	var mu sync.Mutex // one line at a time on Progress
	errs := make([]error, len(xs))
	sem := make(chan struct{}, buildWorkers(len(xs)))
	var wg sync.WaitGroup
	for i, x := range xs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out := &prefixWriter{mu: &mu, w: p.Progress, prefix: fmt.Sprintf("%-*s | ", width, envLabel(x))}
			errs[i] = fn(x, out, true)
			out.flush()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// buildWorkers is how many of n environments build at once: one per core,
// at most maxBuildWorkers.
func buildWorkers(n int) int {
	return max(1, min(n, runtime.NumCPU(), maxBuildWorkers))
}

// envLabel names an environment in build output.
func envLabel(x *env.Environment) string {
	if x.Name == "" {
		return "project"
	}
	return x.Name
}

// prefixWriter writes whole lines to w, each after prefix, one at a time
// under mu (which the writers of one output share); a last line without
// its newline waits for flush.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string

	bufMu sync.Mutex
	buf   []byte
}

func (pw *prefixWriter) Write(b []byte) (int, error) {
	pw.bufMu.Lock()
	defer pw.bufMu.Unlock()
	pw.buf = append(pw.buf, b...)
	for {
		i := bytes.IndexByte(pw.buf, '\n')
		if i < 0 {
			break
		}
		pw.line(pw.buf[:i+1])
		pw.buf = pw.buf[i+1:]
	}
	return len(b), nil
}

// flush writes what is left of the last line, ending it.
func (pw *prefixWriter) flush() {
	pw.bufMu.Lock()
	defer pw.bufMu.Unlock()
	if len(pw.buf) > 0 {
		pw.line(append(pw.buf, '\n'))
		pw.buf = nil
	}
}

func (pw *prefixWriter) line(l []byte) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	io.WriteString(pw.w, pw.prefix)
	pw.w.Write(l)
}

// pullLines reports a pull on out as two lines, when it fetches anything:
// "pulling REF: N layers, SIZE" as the first layer starts, "pulled REF"
// once every layer is in.
func pullLines(out io.Writer) func(layers.Progress) {
	var layersN, ready int
	var total int64
	started := false
	return func(pr layers.Progress) {
		switch pr.Phase {
		case layers.PhaseResolved:
			layersN, total = pr.Layers, pr.Total
		case layers.PhaseFetching:
			if !started {
				started = true
				fmt.Fprintf(out, "pulling %s: %d layers, %s\n", pr.Ref, layersN, mib(total))
			}
		case layers.PhaseCached, layers.PhaseDone:
			ready++
			if started && ready == layersN {
				fmt.Fprintf(out, "pulled %s\n", pr.Ref)
			}
		}
	}
}
