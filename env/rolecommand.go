package env

import (
	"slices"
	"strings"
)

// LongRunning says whether r serves (ports or a restart policy) rather
// than runs to completion: nook up starts it and keeps it, a dependant
// waits for it to be ready rather than to end, and exports make it a
// service rather than a job.
func (r *Role) LongRunning() bool {
	return len(r.Ports) > 0 || (r.Restart != "" && r.Restart != RestartNo)
}

// CommandLine is r's argv with args appended: to an array command as they
// are, to a string command, run under /bin/sh -c with the role's name as
// $0, as "$@" (SPEC §5). A one-line script that does not use "$@" or "$*"
// gets ` "$@"` appended, so that `nook run test -- -v` reaches its
// command; a script of several lines gets the args as its $1, $2, … only,
// since nothing can be appended to its last line safely (it may end a
// loop, a here-document or a comment). unused reports args that the script
// never looks at.
func (r *Role) CommandLine(args []string) (argv []string, unused bool) {
	if !r.Shell {
		return append(slices.Clone(r.Command), args...), false
	}
	script := r.Command[0]
	if len(args) > 0 && !usesArgs(script) {
		if trimmed := strings.TrimRight(script, " \t\r\n"); !strings.Contains(trimmed, "\n") {
			script = trimmed + ` "$@"`
		} else {
			unused = true
		}
	}
	return append([]string{"/bin/sh", "-c", script, r.Name}, args...), unused
}

// usesArgs reports whether a shell script refers to its positional
// parameters: $@, $*, $1…$9 or ${1}….
func usesArgs(script string) bool {
	for i := strings.IndexByte(script, '$'); i >= 0 && i+1 < len(script); {
		c := script[i+1]
		if c == '@' || c == '*' || c >= '1' && c <= '9' || c == '{' && i+2 < len(script) && (script[i+2] == '@' || script[i+2] == '*' || script[i+2] >= '1' && script[i+2] <= '9') {
			return true
		}
		j := strings.IndexByte(script[i+1:], '$')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}
