package doctor

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nookenv/nook/build"
	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// checkProject checks the project nook doctor runs in: nook.toml valid,
// nook.lock present and matching it, every environment (the project's and
// each role's own) in the store.
func checkProject(m *Machine, u *env.UserConfig) []Result {
	p := m.Project
	file := Result{Name: "nook.toml", Status: OK}
	if p.Env == nil {
		first, rest := firstLine(p.Err.Error())
		file.Status, file.Summary = Fail, first
		file.Or = append(rest, hintLines(p.Err)...)
		return []Result{file}
	}
	e := p.Env
	file.Summary = fmt.Sprintf("%s is valid: %s", p.File, plural("role", e.RoleNames()))
	if len(e.Roles) == 0 {
		file.Summary = p.File + " is valid: no roles yet"
	}
	xs := e.Environments()
	if !slices.ContainsFunc(xs, func(x *env.Environment) bool { return x.Image != "host" }) {
		return append([]Result{file}, environmentResults(xs, nil)...)
	}
	lockFile := build.LockPath(e)
	lockRes := Result{Name: "nook.lock", Status: OK}
	lock, err := layers.ReadLock(lockFile)
	if err != nil {
		first, rest := firstLine(err.Error())
		lockRes.Status, lockRes.Summary = Fail, first
		lockRes.Or = append(rest, hintLines(err)...)
		return []Result{file, lockRes}
	}
	idmap := env.IDMapSingle
	if u != nil {
		idmap = u.IDMap
	}
	store := openStore(m)
	statuses := make([]build.Status, len(xs))
	for i, x := range xs {
		statuses[i] = build.Check(store, e, x, lock, idmap)
	}
	lockRes = lockResult(filepath.Base(lockFile), xs, statuses, lock)
	return append([]Result{file, lockRes}, environmentResults(xs, statuses)...)
}

// lockResult says whether nook.lock pins every environment xs as
// nook.toml has it.
func lockResult(rel string, xs []*env.Environment, statuses []build.Status, lock *layers.Lock) Result {
	res := Result{Name: "nook.lock", Status: OK}
	var stale, pins []string
	for i, x := range xs {
		if x.Image == "host" {
			continue
		}
		if !statuses[i].Locked {
			stale = append(stale, envName(x))
			continue
		}
		pl := lock.Entry(x.Name, layers.HostPlatform())
		pin := fmt.Sprintf("%s at %s", x.ImageRef, shortDigest(pl.Digest))
		if n := len(pl.Packages); n > 0 {
			pin += fmt.Sprintf(" and %d packages", n)
		}
		if x.Name != "" {
			pin = "role " + x.Name + ": " + pin
		}
		pins = append(pins, pin)
	}
	switch {
	case lock == nil:
		res.Status, res.Summary = Warn, "no "+rel+" yet: the first build writes it"
		res.Fix = []string{"nook build"}
		res.Or = []string{"then commit " + rel + ": a clone gets the same image and package versions"}
	case len(stale) > 0:
		which := ""
		if len(stale) > 1 || stale[0] != envName(xs[0]) {
			which = " for " + strings.Join(stale, " and ")
		}
		res.Status, res.Summary = Warn, rel+" does not match nook.toml"+which+" (its image or packages changed): the next build brings it up to date"
		res.Fix = []string{"nook build"}
	default:
		res.Summary = "pins " + strings.Join(pins, "; ")
	}
	return res
}

// environmentResults says, for each environment, whether it is in the
// store; statuses are build.Check's (nil when every one is the host's).
func environmentResults(xs []*env.Environment, statuses []build.Status) []Result {
	out := make([]Result, len(xs))
	for i, x := range xs {
		res := Result{Name: "environment", Status: OK}
		if x.Name != "" {
			res.Name += " " + x.Name
		}
		switch {
		case x.Image == "host":
			res.Summary = "the host's root as the base: nothing to lock, pull or build"
		case statuses[i].Built:
			res.Summary = "built: nook run starts without a pull or a build step, offline too"
		case statuses[i].Pulled:
			res.Status, res.Summary = Warn, "the image is in the store; its packages and setup steps are not built yet: the next run builds them"
			res.Fix = []string{"nook build"}
		default:
			res.Status, res.Summary = Warn, fmt.Sprintf("image %s is not in the store: the next run pulls it", x.ImageRef)
			res.Fix = []string{"nook build"}
		}
		out[i] = res
	}
	return out
}

// envName names an environment in a summary.
func envName(x *env.Environment) string {
	if x.Name == "" {
		return "the project"
	}
	return "role " + x.Name
}

// shortDigest is "sha256:" and the first 12 hex digits.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) < 12 {
		return d
	}
	return algo + ":" + hex[:12]
}
