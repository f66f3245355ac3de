package project

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// roleColours are the ANSI colours of role prefixes on a terminal, given
// in turn.
var roleColours = []string{"36", "33", "32", "35", "34", "31", "96", "93", "92", "95"}

// logMux copies each role's output, line by line, to the role's log file
// and, in a foreground nook up, to one writer with the role's name in
// front: "server | listening on :8080", coloured on a terminal.
type logMux struct {
	mu       sync.Mutex // one line at a time on w
	w        io.Writer  // nil: log files only
	prefixes map[string]string
}

// newLogMux prefixes lines of roles on w: names aligned, each role in a
// colour of its own when colour is set.
func newLogMux(w io.Writer, colour bool, roles []string) *logMux {
	m := &logMux{w: w, prefixes: map[string]string{}}
	width := 0
	for _, r := range roles {
		width = max(width, len(r))
	}
	for i, r := range roles {
		p := fmt.Sprintf("%-*s | ", width, r)
		if colour {
			p = "\x1b[" + roleColours[i%len(roleColours)] + "m" + p + "\x1b[0m"
		}
		m.prefixes[r] = p
	}
	return m
}

// pipe returns the write end of a pipe for one run of role's stdout and
// stderr; what is written there goes to log and to the mux's writer until
// every copy of the write end is closed, and then done is closed.
func (m *logMux) pipe(role string, log io.Writer) (w *os.File, done <-chan struct{}, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("making the log pipe of role %s: %w", role, err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		defer r.Close()
		m.copy(bufio.NewReaderSize(r, 64<<10), log, m.prefixes[role])
	}()
	return w, copied, nil
}

// copy moves lines from r to log and, prefixed, to m.w. A line longer
// than the buffer goes out in pieces, the prefix before the first.
func (m *logMux) copy(r *bufio.Reader, log io.Writer, prefix string) {
	start := true
	for {
		chunk, err := r.ReadSlice('\n')
		if len(chunk) > 0 {
			log.Write(chunk)
			if m.w != nil {
				m.mu.Lock()
				if start {
					io.WriteString(m.w, prefix)
				}
				m.w.Write(chunk)
				m.mu.Unlock()
			}
			start = chunk[len(chunk)-1] == '\n'
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if !start && m.w != nil {
				m.mu.Lock()
				io.WriteString(m.w, "\n") // the role ended mid-line
				m.mu.Unlock()
			}
			return
		}
	}
}

// Prefixer puts each role's name in front of its output lines on one
// writer, as a foreground nook up does: for nook watch, whose roles share
// the terminal.
type Prefixer struct{ mux *logMux }

// NewPrefixer prefixes the output of roles on w, each role in a colour of
// its own when w is a terminal and NO_COLOR is not set.
func NewPrefixer(w *os.File, roles []string) *Prefixer {
	colour := term.IsTerminal(int(w.Fd())) && os.Getenv("NO_COLOR") == ""
	return &Prefixer{mux: newLogMux(w, colour, roles)}
}

// Pipe is where one run of role writes (RunOptions.Out); close it once
// the run has started, and wait for done before the next run's output.
func (x *Prefixer) Pipe(role string) (w *os.File, done <-chan struct{}, err error) {
	return x.mux.pipe(role, io.Discard)
}
