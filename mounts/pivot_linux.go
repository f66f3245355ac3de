package mounts

import (
	"golang.org/x/sys/unix"
)

// pivotRoot makes the target the root with pivot_root(".", "."): the old
// root ends up mounted on top of the new one, so no put_old directory is
// needed; it is then detached from the old root's side, lazily, together
// with every mount under it (the scratch tmpfs among them, which lives on
// only as long as the new root's mounts use it).
func (a *applier) pivotRoot(op *Op) error {
	if err := a.hostOnly(op); err != nil {
		return err
	}
	a.closeRoot()
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return a.fail(op, "open /", err)
	}
	defer unix.Close(oldRoot)
	newRoot, err := unix.Open(op.Target, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return a.fail(op, "open", err)
	}
	defer unix.Close(newRoot)
	if err := unix.Fchdir(newRoot); err != nil {
		return a.fail(op, "fchdir", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return a.fail(op, "pivot_root", err)
	}
	// The old root is stacked on "/"; from inside it, "." is that mount.
	if err := unix.Fchdir(oldRoot); err != nil {
		return a.fail(op, "fchdir to the old root", err)
	}
	// Make sure the detach cannot propagate to a peer.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		e := a.fail(op, "mount", err)
		e.Target, e.Flags = "the old root", "MS_SLAVE|MS_REC"
		return e
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		e := a.fail(op, "umount2", err)
		e.Target, e.Flags = "the old root", "MNT_DETACH"
		return e
	}
	if err := unix.Chdir("/"); err != nil {
		return a.fail(op, "chdir /", err)
	}
	return nil
}
