package project

import (
	"reflect"
	"slices"

	"github.com/nookenv/nook/env"
)

// ChangedRoles lists which of roles, run as old has them, an edit of
// nook.toml or nook.lock that gave p changes, in the order of roles: each
// role whose definition differs (its watch and ignore globs aside, which
// change what triggers it, not how it runs), each whose environment is
// another now (its image, packages or setup, what the steps see, what
// nook.lock pins: the layers differ), and every role when the project's
// workdir or hostname changed. Both projects must have looked up their
// roles' environments (EnsureEnvironments); a role whose environment
// either has not counts as changed.
func ChangedRoles(old, p *Project, roles []string) []string {
	all := old.Env.Workdir != p.Env.Workdir || old.Env.Hostname != p.Env.Hostname || old.Env.ProjectDir != p.Env.ProjectDir
	var out []string
	for _, n := range roles {
		was, now := old.Env.Roles[n], p.Env.Roles[n]
		if all || was == nil || now == nil || !sameRun(was, now) || !sameSnapshot(old.built(was), p.built(now)) {
			out = append(out, n)
		}
	}
	return out
}

// sameRun reports whether two definitions of a role run it the same way.
func sameRun(a, b *env.Role) bool {
	a2, b2 := *a, *b
	a2.Watch, a2.Ignore, b2.Watch, b2.Ignore = nil, nil, nil, nil
	return reflect.DeepEqual(&a2, &b2)
}

// sameSnapshot reports whether two environments, looked up, are the same
// layers with the same image config.
func sameSnapshot(a, b *built) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	return a.snap != nil && b.snap != nil && slices.Equal(a.snap.Lowers, b.snap.Lowers) && reflect.DeepEqual(a.snap.Config, b.snap.Config)
}
