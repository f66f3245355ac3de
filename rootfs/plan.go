package rootfs

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/mounts"
)

// Options says where on the host a run keeps what it needs.
type Options struct {
	// Scratch is an existing, empty host directory. The plan mounts a private
	// tmpfs over it (inside the new mount namespace, so the host never sees
	// it) to hold the throw-away upper dir, the overlay work dir, the new
	// root's mount point and the generated /etc files.
	Scratch string
	// VolumesDir is the host directory of this project's named volumes
	// (<store>/volumes/<project-id>); applying the plan creates a missing volume dir.
	VolumesDir string
	// ResolvConf is the content of the role's /etc/resolv.conf.
	ResolvConf []byte
	// Upper is an optional persistent upper dir (for build steps); ""
	// puts a throw-away upper on the scratch tmpfs.
	Upper string
	// Work is the overlay work dir that goes with Upper, on the same
	// filesystem.
	Work string
	// User, when set, is the role's user, you (user = "host"): the plan
	// makes it exist in the root and keeps /etc read-only (under the
	// single-id map everything in the root is yours, and the plan keeps
	// nook's and the image's files in /etc from being changed by you).
	User *mounts.User
}

// Plan computes the ops that build role r's root: the image's layers
// (or the host's directories) as the root, the project directory, mounts
// and volumes, /proc, /dev, /tmp and the /etc files, then pivot_root. It is
// pure: no system calls, no reading the disk.
func Plan(e *env.Env, r *env.Role, s *layers.Snapshot, o Options) (*mounts.Plan, error) {
	if e == nil || r == nil || s == nil {
		return nil, errors.New("planning mounts: missing env, role or snapshot")
	}
	binds, err := checkRole(e, r, s, o)
	if err != nil {
		return nil, fmt.Errorf("planning the mounts of role %s: %w", r.Name, err)
	}
	b := &builder{scratch: o.Scratch, plan: &mounts.Plan{Root: filepath.Join(o.Scratch, "root")}}
	b.scratchOps(o, s.Host)
	binds = append(binds, b.etcFiles(binds, e.Hostname, e.RoleNames(), o.ResolvConf)...)
	for _, v := range r.Volumes {
		b.add(mounts.Op{Kind: mounts.OpMkdir, Target: filepath.Join(o.VolumesDir, v.Name), Mode: 0o755})
	}
	if s.Host {
		b.hostRoot(s.HostEntries)
	} else {
		b.overlayRoot(s.Lowers, o)
	}
	b.system()
	// A parent before anything under it, the declared order otherwise.
	slices.SortStableFunc(binds, func(x, y mounts.Op) int { return depth(x.Target) - depth(y.Target) })
	b.add(binds...)
	if wd := r.Workdir; wd != "" && !covered(wd, binds) {
		b.add(mounts.Op{Kind: mounts.OpMkdir, Target: path.Clean(wd), InRoot: true, Mode: 0o755})
	}
	if u := o.User; u != nil {
		b.add(
			mounts.Op{Kind: mounts.OpUser, Target: "/etc", InRoot: true, Source: filepath.Join(b.scratch, "etc"), User: u},
			mounts.Op{Kind: mounts.OpReadOnly, Target: "/etc", InRoot: true},
		)
	}
	b.add(mounts.Op{Kind: mounts.OpPivotRoot, Target: b.plan.Root})
	return b.plan, nil
}

// checkRole refuses what mounts.Plan.Apply could not carry out safely and returns the
// role's binds: the project directory, then its mounts and volumes.
func checkRole(e *env.Env, r *env.Role, s *layers.Snapshot, o Options) ([]mounts.Op, error) {
	if err := hostPath("scratch directory", o.Scratch); err != nil {
		return nil, err
	}
	if (o.Upper == "") != (o.Work == "") {
		return nil, fmt.Errorf("upper dir %q and work dir %q go together", o.Upper, o.Work)
	}
	if o.Upper != "" {
		if err := errors.Join(hostPath("upper dir", o.Upper), hostPath("work dir", o.Work)); err != nil {
			return nil, err
		}
	}
	if s.Host {
		for _, h := range s.HostEntries {
			if !validName(h.Name) {
				return nil, fmt.Errorf("host entry %q: not a plain file name", h.Name)
			}
		}
	} else {
		if len(s.Lowers) == 0 {
			return nil, fmt.Errorf("image %s has no layers", s.Ref)
		}
		for _, l := range s.Lowers {
			if err := hostPath("layer directory", l); err != nil {
				return nil, err
			}
		}
	}
	if err := hostPath("project directory", e.ProjectDir); err != nil {
		return nil, err
	}
	if r.Workdir != "" && !path.IsAbs(r.Workdir) {
		return nil, fmt.Errorf("workdir %q: not an absolute path", r.Workdir)
	}
	if u := o.User; u != nil {
		if !validName(u.Name) || strings.ContainsAny(u.Name, ":\n") || !path.IsAbs(u.Home) || strings.ContainsAny(u.Home, ":\n") {
			return nil, fmt.Errorf("user %q with home %q: not a user name and an absolute home", u.Name, u.Home)
		}
	}

	binds := []mounts.Op{{Kind: mounts.OpBind, Source: e.ProjectDir, Target: e.Workdir, InRoot: true}}
	for _, m := range r.Mounts {
		if err := hostPath("mount source", m.Source); err != nil {
			return nil, err
		}
		binds = append(binds, bindOp(m.Source, m.Target, m.ReadOnly))
	}
	if len(r.Volumes) > 0 {
		if err := hostPath("volumes directory", o.VolumesDir); err != nil {
			return nil, err
		}
	}
	for _, v := range r.Volumes {
		if !validName(v.Name) {
			return nil, fmt.Errorf("volume %q: a volume name is a plain file name", v.Name)
		}
		binds = append(binds, bindOp(filepath.Join(o.VolumesDir, v.Name), v.Target, v.ReadOnly))
	}
	seen := map[string]string{}
	for i := range binds {
		t := binds[i].Target
		if !path.IsAbs(t) || path.Clean(t) == "/" {
			return nil, fmt.Errorf("mount target %q: not an absolute path below /", t)
		}
		binds[i].Target = path.Clean(t)
		if src, dup := seen[binds[i].Target]; dup {
			return nil, fmt.Errorf("%s and %s are both mounted at %s", src, binds[i].Source, binds[i].Target)
		}
		seen[binds[i].Target] = binds[i].Source
	}
	return binds, nil
}

// bindOp is a recursive bind of the host path src at target in the new root.
func bindOp(src, target string, readOnly bool) mounts.Op {
	op := mounts.Op{Kind: mounts.OpBind, Source: src, Target: target, InRoot: true}
	if readOnly {
		op.Flags = []string{"ro"}
	}
	return op
}

// hostPath refuses a host path that is not absolute and clean.
func hostPath(what, p string) error {
	if !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return fmt.Errorf("%s %q: not a clean absolute path", what, p)
	}
	return nil
}

// validName reports whether name is one plain path element.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// depth is the number of elements of the clean absolute path p.
func depth(p string) int {
	return strings.Count(p, "/")
}

// covered reports whether p lies at or under one of the binds' targets.
func covered(p string, binds []mounts.Op) bool {
	p = path.Clean(p)
	for _, b := range binds {
		if p == b.Target || strings.HasPrefix(p, b.Target+"/") {
			return true
		}
	}
	return false
}

// builder accumulates a plan's ops.
type builder struct {
	scratch string
	plan    *mounts.Plan
}

func (b *builder) add(ops ...mounts.Op) {
	b.plan.Ops = append(b.plan.Ops, ops...)
}

// scratchOps keeps the host out of everything that follows and makes the
// private tmpfs that holds the run's throw-away state: the overlay's upper
// and work dirs (unless the caller brings its own, or the root is the
// host's) and the new root's mount point.
func (b *builder) scratchOps(o Options, host bool) {
	b.add(
		mounts.Op{Kind: mounts.OpSlave, Target: "/"},
		mounts.Op{Kind: mounts.OpMount, Target: b.scratch, FSType: "tmpfs", Source: "nook", Options: []string{"mode=0700"}, Flags: []string{"nosuid", "nodev"}},
	)
	if o.Upper == "" && !host {
		b.add(
			mounts.Op{Kind: mounts.OpMkdir, Target: filepath.Join(b.scratch, "upper"), Mode: 0o755},
			mounts.Op{Kind: mounts.OpMkdir, Target: filepath.Join(b.scratch, "work"), Mode: 0o700},
		)
	}
	b.add(mounts.Op{Kind: mounts.OpMkdir, Target: b.plan.Root, Mode: 0o755})
}

// overlayRoot stacks the layers at the new root. Lowers is bottom first;
// overlay wants the top layer first.
func (b *builder) overlayRoot(lowers []string, o Options) {
	upper, work := o.Upper, o.Work
	if upper == "" {
		upper, work = filepath.Join(b.scratch, "upper"), filepath.Join(b.scratch, "work")
	}
	top := slices.Clone(lowers)
	slices.Reverse(top)
	b.add(mounts.Op{
		Kind:    mounts.OpOverlay,
		Target:  b.plan.Root,
		Source:  "nook",
		Lowers:  top,
		Upper:   upper,
		Work:    work,
		LinkDir: filepath.Join(b.scratch, "lowers"),
		Options: []string{"userxattr"},
	})
}

// hostRoot makes the new root a tmpfs holding a read-only bind of each of
// the host's top-level directories and a copy of each top-level symlink,
// so new top-level directories (the workdir) can still be made in it.
func (b *builder) hostRoot(entries []layers.HostEntry) {
	b.add(mounts.Op{Kind: mounts.OpMount, Target: b.plan.Root, FSType: "tmpfs", Source: "nook", Options: []string{"mode=0755"}, Flags: []string{"nosuid", "nodev"}})
	for _, h := range entries {
		switch {
		case provided[h.Name]:
		case h.Name == "root" && h.Dir:
			// root's home: the host's is root's alone, unreadable for you
			// (bash would complain about its .bashrc at every start), so
			// the role gets an empty, throw-away one.
			b.add(mounts.Op{Kind: mounts.OpMkdir, Target: "/root", InRoot: true, Mode: 0o700})
		case h.Symlink != "":
			b.add(mounts.Op{Kind: mounts.OpSymlink, Target: "/" + h.Name, InRoot: true, Link: h.Symlink})
		case h.Dir:
			b.add(bindOp("/"+h.Name, "/"+h.Name, true))
		}
	}
}

// provided are the top-level directories nook makes itself in every root.
var provided = map[string]bool{"proc": true, "dev": true, "tmp": true}
