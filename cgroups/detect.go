package cgroups

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Hierarchy is how the machine mounts its cgroups.
type Hierarchy string

// The hierarchies Detect tells apart.
const (
	Unified Hierarchy = "unified" // cgroup v2 only, at /sys/fs/cgroup: limits can work
	Hybrid  Hierarchy = "hybrid"  // controllers on v1 hierarchies; a v2 one without controllers at /sys/fs/cgroup/unified
	Legacy  Hierarchy = "legacy"  // cgroup v1 only
	None    Hierarchy = "none"    // no cgroup file system at /sys/fs/cgroup
)

// limitControllers are the controllers nook's limits use.
var limitControllers = []string{"cpu", "memory", "pids"}

// Host is how the machine's cgroups are set up for this user, as Detect
// found them.
type Host struct {
	Root      string    // the file system root Detect read ("/" but in tests)
	UID       int       // the user the delegation was checked for
	Hierarchy Hierarchy // Unified, Hybrid, Legacy or None
	Self      string    // this process's cgroup v2 path ("/user.slice/…"); "" without one
	// Base is the cgroup (a v2 path) under which role cgroups are made: the
	// nearest cgroup above Self that the user owns and whose controllers
	// it can hand out. "" when there is none; Reason says why.
	Base string
	// Enabled are the limit controllers (cpu, memory, pids) Base hands to
	// its children now (its cgroup.subtree_control); Delegated adds those
	// Create may enable there itself (in cgroup.controllers, and Base has
	// no processes of its own).
	Enabled, Delegated []string
	// Reason says why no limit can be applied; "" when Base is set.
	Reason string
}

var (
	selfOnce sync.Once
	self     *Host
)

// Self is Detect for this process on the real machine, done once.
func Self() *Host {
	selfOnce.Do(func() { self = Detect("/", os.Getuid()) })
	return self
}

// Detect reads the cgroup setup under root (normally "/"): the mounts
// below root/sys/fs/cgroup, this process's cgroup from
// root/proc/self/cgroup, and the ownership and controllers of the cgroups
// above it, for the user uid. It never writes.
func Detect(root string, uid int) *Host {
	h := &Host{Root: root, UID: uid}
	cg := filepath.Join(root, "sys/fs/cgroup")
	switch {
	case exists(filepath.Join(cg, "cgroup.controllers")):
		h.Hierarchy = Unified
	case exists(filepath.Join(cg, "unified/cgroup.controllers")):
		h.Hierarchy = Hybrid
	case exists(filepath.Join(cg, "memory")) || exists(filepath.Join(cg, "pids")) || exists(filepath.Join(cg, "cpu")):
		h.Hierarchy = Legacy
	default:
		h.Hierarchy = None
	}
	h.Self = ownCgroup(filepath.Join(root, "proc/self/cgroup"))
	switch h.Hierarchy {
	case Hybrid:
		h.Reason = "the controllers are on cgroup v1 hierarchies (hybrid cgroups: the v2 one at /sys/fs/cgroup/unified has none), and nook applies limits through cgroup v2 only"
		return h
	case Legacy:
		h.Reason = "the machine has cgroup v1 hierarchies only, and nook applies limits through cgroup v2 only"
		return h
	case None:
		h.Reason = "no cgroup file system is mounted at /sys/fs/cgroup"
		return h
	}
	if h.Self == "" {
		h.Reason = "this process is in no cgroup v2 (/proc/self/cgroup has no 0:: line)"
		return h
	}
	owned := false
	for p := path.Dir(h.Self); h.Self != "/"; p = path.Dir(p) {
		if !h.owned(p) {
			break
		}
		owned = true
		enabled, delegated := h.controllers(p)
		if len(delegated) > len(h.Delegated) {
			h.Base, h.Enabled, h.Delegated = p, enabled, delegated
		}
		if p == "/" {
			break
		}
	}
	switch {
	case h.Base != "":
	case !owned:
		h.Reason = fmt.Sprintf("your cgroup %s is not delegated to you: the cgroup above it is not yours (uid %d); "+
			"a login over ssh, su or a console runs outside systemd's user manager", h.Self, uid)
	default:
		h.Reason = fmt.Sprintf("the cgroups above %s that are yours have none of the cpu, memory and pids controllers to hand out", h.Self)
	}
	return h
}

// Dir is the directory of the cgroup v2 path p.
func (h *Host) Dir(p string) string {
	mount := filepath.Join(h.Root, "sys/fs/cgroup")
	if h.Hierarchy == Hybrid {
		mount = filepath.Join(mount, "unified")
	}
	return filepath.Join(mount, p)
}

// owned reports whether the user owns the cgroup p: its directory and its
// cgroup.procs, as systemd chowns a delegated cgroup.
func (h *Host) owned(p string) bool {
	for _, name := range []string{"", "cgroup.procs"} {
		fi, err := os.Stat(filepath.Join(h.Dir(p), name))
		if err != nil {
			return false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || int(st.Uid) != h.UID {
			return false
		}
	}
	return true
}

// controllers are the limit controllers cgroup p hands to its children
// (enabled), and those it could (delegated): the enabled ones, and the
// ones it has when it holds no process of its own to keep them from being
// enabled.
func (h *Host) controllers(p string) (enabled, delegated []string) {
	dir := h.Dir(p)
	enabled = limitOnly(readWords(filepath.Join(dir, "cgroup.subtree_control")))
	delegated = slices.Clone(enabled)
	if procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil && len(bytes.TrimSpace(procs)) == 0 {
		for _, c := range limitOnly(readWords(filepath.Join(dir, "cgroup.controllers"))) {
			if !slices.Contains(delegated, c) {
				delegated = append(delegated, c)
			}
		}
		slices.Sort(delegated)
	}
	return enabled, delegated
}

// Usable is l without the limits this machine cannot apply, and, when it
// had to drop any, why (for a one-line warning).
func (h *Host) Usable(l Limits) (Limits, string) {
	need := l.Controllers()
	if len(need) == 0 {
		return l, ""
	}
	if h.Base == "" {
		return Limits{}, h.Reason
	}
	var missing []string
	for _, c := range need {
		if !slices.Contains(h.Delegated, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return l, ""
	}
	what := "controller is"
	if len(missing) > 1 {
		what = "controllers are"
	}
	return l.Without(missing), fmt.Sprintf("the %s %s not delegated to you (your cgroup %s hands out only %s)",
		strings.Join(missing, " and "), what, h.Base, orNone(h.Delegated))
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// ownCgroup is the cgroup v2 path in a /proc/PID/cgroup file: its "0::"
// line; "" without one.
func ownCgroup(file string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok && strings.HasPrefix(p, "/") {
			return path.Clean(p)
		}
	}
	return ""
}

// readWords reads a file of space-separated words, such as
// cgroup.controllers; nil when it cannot.
func readWords(file string) []string {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// limitOnly keeps the limit controllers of list, sorted.
func limitOnly(list []string) []string {
	var out []string
	for _, c := range list {
		if slices.Contains(limitControllers, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
