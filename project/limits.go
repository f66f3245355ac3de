package project

import (
	"errors"
	"fmt"
	"sync"

	"github.com/nookenv/nook/cgroups"
	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/rootless"
)

// limitsWarned makes the warning about limits that cannot be applied one
// line per nook process, however many roles it runs or restarts.
var limitsWarned sync.Once

// roleLimits are the limits of r that this machine can apply, for
// rootless.Spec. When it cannot apply some, nook says so once, with the
// reason, and runs the role without them (SPEC §2).
func roleLimits(r *env.Role, print Printer) cgroups.Limits {
	l := cgroups.Limits{Memory: r.Limits.Memory, CPUs: r.Limits.CPUs, Pids: r.Limits.Pids}
	if l.IsZero() {
		return l
	}
	usable, why := cgroups.Self().Usable(l)
	if why != "" {
		warnLimits(print, r.Name, l.Without(usable.Controllers()), why)
	}
	return usable
}

// warnLimits says, once per process, that role's limits dropped are not
// applied, and why.
func warnLimits(print Printer, role string, dropped cgroups.Limits, why string) {
	limitsWarned.Do(func() {
		print.Line(fmt.Sprintf("nook: warning: limits of role %s not applied (%s): %s; `nook doctor` explains", role, dropped, why))
	})
}

// CheckLimits says before roles start, as their launch would once they
// do, when their limits cannot be applied: nook up -d returns before its
// supervisor starts them.
func (p *Project) CheckLimits(roles []string) {
	for _, n := range roles {
		roleLimits(p.Env.Roles[n], p.Printer)
	}
}

// ended passes a run's end on. A role run alongside others (nook up, nook
// watch) that the OOM killer killed is reported here, and its run ends
// with its exit status (137), so that its restart policy applies as for
// any other exit.
func (l launch) ended(code int, err error) (int, error) {
	var oom *rootless.OOMError
	if l.background && errors.As(err, &oom) {
		l.print.Error(err)
		return code, nil
	}
	return code, err
}
