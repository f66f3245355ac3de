package rootless

import (
	"os"
	"syscall"

	"github.com/nookenv/nook/cgroups"
)

// roleCgroup makes the cgroup of a run of spec, under the cgroup delegated
// to the user, with spec's limits written: nil when spec has none. It is
// named after the role and this process (cgroups.Name), so that nook ps
// finds it from the run's record.
func roleCgroup(spec *Spec) (*cgroups.Cgroup, error) {
	if spec.Limits.IsZero() {
		return nil, nil
	}
	cg, err := cgroups.Self().Create(cgroups.Name(spec.Role, os.Getpid()), spec.Limits)
	if err != nil {
		return nil, &limitsError{err: err,
			hint: "`nook doctor` shows how this machine's cgroups are delegated; remove limits from the role to run it without them"}
	}
	return cg, nil
}

// limitsError is a failure to set up a run's cgroup or to move the run
// into it.
type limitsError struct {
	err  error
	hint string
}

func (e *limitsError) Error() string { return e.err.Error() }
func (e *limitsError) Unwrap() error { return e.err }

// Hint says what to do about it.
func (e *limitsError) Hint() string { return e.hint }

// outOfMemory turns the end of a run killed by SIGKILL in a cgroup where
// the OOM killer struck into an *OOMError; any other end passes through.
func outOfMemory(spec *Spec, cg *cgroups.Cgroup, code int, err error) (int, error) {
	if cg == nil || err != nil || code != 128+int(syscall.SIGKILL) || cg.OOMKills() == 0 {
		return code, err
	}
	return code, &OOMError{Role: spec.Role, Limit: spec.Limits.Memory, Status: code}
}
