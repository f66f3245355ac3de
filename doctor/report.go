package doctor

import (
	"strings"

	"github.com/nookenv/nook/rootless"
)

// Status is a check's verdict.
type Status string

// The verdicts: ok, or a problem that leaves nook working (warn), or one
// that keeps it, or part of what the project asks for, from working (fail).
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Result is what one check found.
type Result struct {
	Name    string   `json:"name"`           // what was checked: "kernel", "user namespaces", …
	Status  Status   `json:"status"`         // ok, warn or fail
	Summary string   `json:"summary"`        // one line: what was found
	Fix     []string `json:"fix,omitempty"`  // commands that fix the problem now
	Keep    []string `json:"keep,omitempty"` // commands that keep the fix across reboots
	Or      []string `json:"or,omitempty"`   // another way, or what else to know: words, then commands
}

// Report is every check's result, in the order they are shown.
type Report struct {
	Checks []Result `json:"checks"`
}

// Blocked reports whether a check failed: nook doctor then exits 1.
func (r *Report) Blocked() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// fixedBy gives r the commands of refusals, in order.
func (r Result) fixedBy(refusals ...rootless.Refusal) Result {
	for _, f := range refusals {
		r.Fix = append(r.Fix, f.Fix...)
		r.Keep = append(r.Keep, f.Keep...)
		r.Or = append(r.Or, f.Or...)
	}
	return r
}

// problems joins the problems of refusals for a summary.
func problems(refusals []rootless.Refusal) string {
	out := make([]string, len(refusals))
	for i, f := range refusals {
		out[i] = f.Problem
	}
	return strings.Join(out, "; ")
}

// firstLine is the first line of an error's message, for a summary; the
// rest goes to Or with its hints.
func firstLine(s string) (first string, rest []string) {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[0], lines[1:]
}

// hintLines are the lines of err's hint, when it has one.
func hintLines(err error) []string {
	var out []string
	for e := err; e != nil; {
		if h, ok := e.(interface{ Hint() string }); ok && h.Hint() != "" {
			return append(out, strings.Split(h.Hint(), "\n")...)
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	return out
}

// joinList joins names with commas.
func joinList(names []string) string { return strings.Join(names, ", ") }
