package main

import (
	"context"
	"slices"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/project"
	"github.com/nookenv/nook/watch"
)

// reloadInPlace applies an edit of nook.toml or nook.lock (p, opened
// afresh) that leaves the roles run, their dependencies, their kinds and
// their watch rules as they were: it builds what the edit changed and
// restarts only the roles it changes (project.ChangedRoles) with those the
// trigger names, and the roles that depend on them; the others keep
// running. It reports false, changing nothing, for an edit that changes
// more: the caller then replaces every role. An error (a failed build)
// comes with true and changes nothing either.
func (w *watchLoop) reloadInPlace(ctx context.Context, p *project.Project, t watch.Trigger) (bool, error) {
	roles, err := watchedRoles(p, w.chosen)
	if err != nil || !slices.Equal(roles, w.roles) || !sameShape(w.env, p.Env, roles) {
		return false, nil
	}
	if err := p.EnsureEnvironments(ctx, roles); err != nil {
		return true, err
	}
	restart := project.ChangedRoles(w.project, p, roles)
	for _, n := range t.Names {
		if n != "" && !slices.Contains(restart, n) {
			restart = append(restart, n)
		}
	}
	w.starter.p.Store(p)
	w.env, w.project = p.Env, p
	if len(restart) == 0 {
		w.say("%s changed: no role runs differently", changedFiles(t.Files))
		return true, nil
	}
	w.say("%s changed: %s", changedFiles(t.Files), w.action(p.Env, w.restartOrder(restart)))
	w.sup.Restart(restart...)
	return true, nil
}

// sameShape reports whether roles have the same kind, dependencies and
// watch rules in a and b: what the supervisor and the watcher were made
// with.
func sameShape(a, b *env.Env, roles []string) bool {
	for _, n := range roles {
		x, y := a.Roles[n], b.Roles[n]
		if x == nil || y == nil || x.LongRunning() != y.LongRunning() ||
			!slices.Equal(x.DependsOn, y.DependsOn) || !slices.Equal(x.Watch, y.Watch) || !slices.Equal(x.Ignore, y.Ignore) {
			return false
		}
	}
	return true
}
