package mounts

import (
	"errors"
	"strings"
	"syscall"
)

// MountError is the failure of one op of a plan: the system call or step
// that failed, with the op's source, target, filesystem type and flags.
type MountError struct {
	Op     string   // the call or step that failed: "fsconfig lowerdir+", "move_mount", "mount point", …
	Source string   // host path or filesystem source; "" when the op has none
	Target string   // host path, or path inside the new root when InRoot
	InRoot bool     // Target is inside the new root
	FSType string   // filesystem type, "bind" for a bind mount
	Flags  string   // options and mount attributes, comma-separated
	Log    []string // the kernel's messages about a refused filesystem (read from the fs context)
	Err    error
}

// Error reads "OP SOURCE on TARGET (type T, flags F): ERR".
func (e *MountError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Source != "" {
		b.WriteString(" " + e.Source)
		if e.Target != "" {
			b.WriteString(" on")
		}
	}
	if e.Target != "" {
		b.WriteString(" " + e.Target)
		if e.InRoot {
			b.WriteString(" in the new root")
		}
	}
	var attrs []string
	if e.FSType != "" {
		attrs = append(attrs, "type "+e.FSType)
	}
	if e.Flags != "" {
		attrs = append(attrs, "flags "+e.Flags)
	}
	if len(attrs) > 0 {
		b.WriteString(" (" + strings.Join(attrs, ", ") + ")")
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if len(e.Log) > 0 {
		b.WriteString(" (kernel: " + strings.Join(e.Log, "; ") + ")")
	}
	return b.String()
}

// Unwrap returns the underlying error, usually a syscall.Errno.
func (e *MountError) Unwrap() error { return e.Err }

// Hint says how to get past the failure, where that is known; "" otherwise.
func (e *MountError) Hint() string {
	is := func(errs ...syscall.Errno) bool {
		for _, errno := range errs {
			if errors.Is(e.Err, errno) {
				return true
			}
		}
		return false
	}
	switch {
	case is(syscall.ENOSYS):
		return "nook needs Linux 5.12 or newer (openat2, the new mount API and mount_setattr); check uname -r, or a seccomp filter that blocks these calls"
	case e.FSType == "overlay" && is(syscall.EPERM, syscall.EINVAL):
		return "overlayfs in a user namespace needs Linux 5.11 or newer, and every layer on a filesystem overlay can use as a lower directory (ext4, xfs, btrfs, tmpfs; not another overlay without userxattr, not NFS or FUSE): move NOOK_HOME to such a filesystem"
	case e.FSType == "proc" && is(syscall.EPERM):
		return "/proc is partly masked here (nook is running inside a container?): the kernel allows a new /proc only where an unmasked one is visible; run nook on the host, or give its container an unmasked /proc (e.g. docker run --security-opt systempaths=unconfined)"
	case e.FSType == "devpts" && is(syscall.EPERM, syscall.EINVAL):
		return "the kernel refused a private devpts instance; on old kernels it needs CONFIG_DEVPTS_MULTIPLE_INSTANCES"
	case e.Op == "mount point" && is(syscall.EROFS):
		return "the mount point must be made in a read-only directory (with the host base, host directories are read-only): mount it under a directory nook makes, such as the workdir or /tmp, or under a new top-level directory"
	case e.FSType == "bind" && e.Op == "open_tree" && is(syscall.ENOENT):
		return "the mount source does not exist on the host: create it, or fix the mount in nook.toml"
	case e.Op == "pivot_root" && is(syscall.EINVAL):
		return "pivot_root is refused when the current root is the initramfs (rootfs); run nook from a system booted onto a real root filesystem"
	case is(syscall.EPERM, syscall.EACCES) && e.FSType != "":
		return "the kernel refused the mount in nook's user namespace; nook doctor checks user namespaces and overlayfs support"
	}
	return ""
}
