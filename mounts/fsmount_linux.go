package mounts

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// mountAttrs maps an op's Flags to MOUNT_ATTR_* bits.
var mountAttrs = map[string]uint64{
	"ro":     unix.MOUNT_ATTR_RDONLY,
	"nosuid": unix.MOUNT_ATTR_NOSUID,
	"nodev":  unix.MOUNT_ATTR_NODEV,
	"noexec": unix.MOUNT_ATTR_NOEXEC,
}

func (a *applier) attrs(op *Op) (uint64, error) {
	var attrs uint64
	for _, f := range op.Flags {
		bit, ok := mountAttrs[f]
		if !ok {
			return 0, a.fail(op, "mount attributes", fmt.Errorf("unknown flag %q", f))
		}
		attrs |= bit
	}
	return attrs, nil
}

// mountFS mounts a new filesystem instance with the new mount API:
// fsopen, fsconfig for each option, fsmount, then move_mount onto the
// target.
func (a *applier) mountFS(op *Op) error {
	attrs, err := a.attrs(op)
	if err != nil {
		return err
	}
	fd, err := unix.Fsopen(op.FSType, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return a.fail(op, "fsopen", err)
	}
	defer unix.Close(fd)
	if op.Source != "" {
		if err := unix.FsconfigSetString(fd, "source", op.Source); err != nil {
			return a.fsFail(op, fd, "fsconfig source", err)
		}
	}
	for _, o := range op.Options {
		if err := setOption(fd, o); err != nil {
			return a.fsFail(op, fd, "fsconfig "+o, err)
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return a.fsFail(op, fd, "fsconfig create", err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, int(attrs))
	if err != nil {
		return a.fsFail(op, fd, "fsmount", err)
	}
	defer unix.Close(mfd)
	return a.attach(mfd, op, true)
}

// setOption passes one "key=value" or flag option to a filesystem context.
func setOption(fd int, option string) error {
	if key, value, ok := strings.Cut(option, "="); ok {
		return unix.FsconfigSetString(fd, key, value)
	}
	return unix.FsconfigSetFlag(fd, option)
}

// fsFail is fail with the kernel's messages about the filesystem context.
func (a *applier) fsFail(op *Op, fd int, call string, err error) *MountError {
	e := a.fail(op, call, err)
	e.Log = fsLog(fd)
	return e
}

// fsLog reads the error and warning messages the kernel left in a
// filesystem context ("e overlay: …"), without their prefix.
func fsLog(fd int) []string {
	var msgs []string
	buf := make([]byte, 1024)
	for range 32 {
		n, err := unix.Read(fd, buf)
		if err != nil || n <= 0 {
			break
		}
		msg := string(buf[:n])
		if kind, text, ok := strings.Cut(msg, " "); ok && (kind == "e" || kind == "w") {
			msgs = append(msgs, strings.TrimSpace(text))
		}
	}
	return msgs
}

// bind clones the source's mount tree (open_tree with AT_RECURSIVE: a
// single mount cannot be cloned away from mounts locked onto it), makes
// the whole clone read-only when asked with mount_setattr — a remount
// would have to keep every locked flag of the source — and moves it onto
// the target. The source's kind decides whether the mount point is made a
// directory or an empty file.
func (a *applier) bind(op *Op) error {
	attrs, err := a.attrs(op)
	if err != nil {
		return err
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, op.Source, unix.OPEN_TREE_CLONE|unix.O_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return a.fail(op, "open_tree", err)
	}
	defer unix.Close(tree)
	var st unix.Stat_t
	if err := unix.Fstat(tree, &st); err != nil {
		return a.fail(op, "fstat", err)
	}
	if attrs != 0 {
		err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: attrs})
		if err != nil {
			return a.fail(op, "mount_setattr", err)
		}
	}
	return a.attach(tree, op, st.Mode&unix.S_IFMT == unix.S_IFDIR)
}

// attach moves the detached mount mfd onto the op's target. A target in
// the new root is resolved inside it and the mount moved onto the
// resulting descriptor, so no symlink can carry it out of the root.
func (a *applier) attach(mfd int, op *Op, dir bool) error {
	if !op.InRoot {
		if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, op.Target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return a.fail(op, "move_mount", err)
		}
		return nil
	}
	rootfd, err := a.rootFD(op)
	if err != nil {
		return err
	}
	tfd, err := mountPoint(rootfd, op.Target, dir)
	if err != nil {
		return a.fail(op, "mount point", err)
	}
	defer unix.Close(tfd)
	if err := unix.MoveMount(mfd, "", tfd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return a.fail(op, "move_mount", err)
	}
	return nil
}
