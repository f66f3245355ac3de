package build

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// tailLines is how many of a failed step's last output lines its error shows.
const tailLines = 15

// maxLine bounds one output line; longer ones are split.
const maxLine = 64 << 10

// tail keeps the last n lines written to it.
type tail struct {
	n     int
	lines []string
}

func (t *tail) add(line string) {
	if len(t.lines) == t.n {
		t.lines = t.lines[1:]
	}
	t.lines = append(t.lines, line)
}

// String is the kept lines, each ending in a newline.
func (t *tail) String() string {
	if len(t.lines) == 0 {
		return ""
	}
	return strings.Join(t.lines, "\n") + "\n"
}

// copyLines copies src to dst line by line as it arrives, each line
// prefixed with prefix and a space, and keeps the last lines in t. A
// carriage return ends a line too (progress meters). It returns at the end
// of src; write errors to dst are ignored so the step never blocks on them.
func copyLines(dst io.Writer, prefix string, src io.Reader, t *tail) error {
	r := bufio.NewReaderSize(src, maxLine)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			err = nil
		}
		if len(line) > 0 {
			for _, l := range strings.Split(strings.TrimRight(string(line), "\r\n"), "\r") {
				if l == "" {
					continue
				}
				t.add(l)
				io.WriteString(dst, prefix+" "+l+"\n")
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
