package doctor

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nookenv/nook/build"
	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// checkProject checks the project nook doctor runs in: nook.toml valid,
// nook.lock present and matching it, the environment in the store.
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
	if e.Image == "host" {
		return []Result{file, {Name: "environment", Status: OK, Summary: "the host's root as the base: nothing to lock, pull or build"}}
	}
	lockFile := build.LockPath(e)
	rel := filepath.Base(lockFile)
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
	status := build.Check(openStore(m), e, lock, idmap)
	switch {
	case lock == nil:
		lockRes.Status, lockRes.Summary = Warn, "no "+rel+" yet: the first build writes it"
		lockRes.Fix = []string{"nook build"}
		lockRes.Or = []string{"then commit " + rel + ": a clone gets the same image and package versions"}
	case !status.Locked:
		lockRes.Status, lockRes.Summary = Warn, rel+" does not match nook.toml (its image or packages changed): the next build brings it up to date"
		lockRes.Fix = []string{"nook build"}
	default:
		pl := lock.Platforms[layers.HostPlatform()]
		lockRes.Summary = fmt.Sprintf("pins %s at %s", e.ImageRef, shortDigest(pl.Digest))
		if n := len(pl.Packages); n > 0 {
			lockRes.Summary += fmt.Sprintf(" and %d packages", n)
		}
	}
	envRes := Result{Name: "environment", Status: OK}
	switch {
	case status.Built:
		envRes.Summary = "built: nook run starts without a pull or a build step, offline too"
	case status.Pulled:
		envRes.Status, envRes.Summary = Warn, "the image is in the store; its packages and setup steps are not built yet: the next run builds them"
		envRes.Fix = []string{"nook build"}
	default:
		envRes.Status, envRes.Summary = Warn, fmt.Sprintf("image %s is not in the store: the next run pulls it", e.ImageRef)
		envRes.Fix = []string{"nook build"}
	}
	return []Result{file, lockRes, envRes}
}

// shortDigest is "sha256:" and the first 12 hex digits.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) < 12 {
		return d
	}
	return algo + ":" + hex[:12]
}
