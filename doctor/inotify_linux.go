package doctor

import (
	"fmt"
	"path/filepath"

	"github.com/nookenv/nook/watch"
)

// checkInotify compares the inotify limits with what this user's
// processes hold already and what nook watch needs for the project: one
// instance, and one watch per watched directory (watch.CountDirs).
func checkInotify(m *Machine) Result {
	res := Result{Name: "inotify", Status: OK}
	dir := m.path("proc/sys/fs/inotify")
	maxWatches, maxInstances := watch.Limit(dir, watch.MaxUserWatches), watch.Limit(dir, watch.MaxUserInstances)
	instances, watches := watch.InUse(m.path("proc"))
	need, watching := 0, false
	if p := m.Project; p != nil && p.Env != nil {
		opt := watch.Options{Root: p.Env.ProjectDir, Always: []string{filepath.Base(p.Env.File), "nook.lock"}}
		for _, n := range p.Env.RoleNames() {
			if r := p.Env.Roles[n]; len(r.Watch) > 0 {
				opt.Rules = append(opt.Rules, watch.Rule{Name: n, Watch: r.Watch, Ignore: r.Ignore})
			}
		}
		if len(opt.Rules) > 0 {
			watching = true
			if n, err := watch.CountDirs(opt); err == nil {
				need = n
			}
		}
	}
	res.Summary = fmt.Sprintf("watches: %d of %d in use; instances: %d of %d in use", watches, maxWatches, instances, maxInstances)
	if watching {
		watches := "watches"
		if need == 1 {
			watches = "watch"
		}
		res.Summary += fmt.Sprintf("; nook watch needs %d %s and 1 instance for this project", need, watches)
	}
	raise := func(status Status, e *watch.LimitError, what string) Result {
		fix, keep := e.Commands()
		res.Status = status
		res.Summary = what + " (" + res.Summary + ")"
		res.Fix, res.Keep = []string{fix}, []string{keep}
		return res
	}
	switch {
	case maxWatches == 0 || maxInstances == 0:
		res.Status, res.Summary = Warn, "cannot read the inotify limits under /proc/sys/fs/inotify: nook watch may hit them"
	case watching && instances >= maxInstances:
		return raise(Fail, &watch.LimitError{Sysctl: watch.MaxUserInstances, Current: maxInstances},
			"out of inotify instances: nook watch cannot start")
	case watching && need > maxWatches-watches:
		return raise(Fail, &watch.LimitError{Sysctl: watch.MaxUserWatches, Current: maxWatches, Needed: need + watches},
			"too few inotify watches left for this project: nook watch cannot watch it all")
	case instances >= maxInstances-1:
		return raise(Warn, &watch.LimitError{Sysctl: watch.MaxUserInstances, Current: maxInstances},
			"nearly out of inotify instances")
	case watching && 2*need > maxWatches-watches:
		return raise(Warn, &watch.LimitError{Sysctl: watch.MaxUserWatches, Current: maxWatches, Needed: need + watches},
			"few inotify watches to spare for this project")
	}
	return res
}
