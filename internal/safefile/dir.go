package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Access is what group and others may do in a tree of nook's directories.
type Access int

const (
	// Private: nothing (mode 0700), as ssh-agent and tmux keep their
	// sockets' directories. The run state holds sockets, logs and pids.
	Private Access = iota
	// Shared: read, not write (0700, or 0755 if the user chose so). The
	// store holds image layers; a user may share it read-only.
	Shared
)

// Dir is the policy of one tree of directories nook writes into, and how
// to name it to the user.
type Dir struct {
	What   string // "the run-state directory"
	Access Access
	// FollowOwnLink lets the top directory be a symbolic link the user
	// owns (a store moved to another disk); what it points to is checked.
	FollowOwnLink bool
	// Elsewhere says how to use a directory of one's own instead, for the
	// hints: "set XDG_RUNTIME_DIR to a directory of your own (mode 0700)".
	Elsewhere string
}

// UnsafeError is a directory or file of nook's that is not safe to use:
// another user's, a symbolic link, open to others. Nothing was read from
// it or written to it.
type UnsafeError struct {
	What    string // "the run-state directory"
	Path    string
	Problem string // "is owned by uid 1002 (eve), not by you (uid 1001)"
	Fix     string
	Err     error // fs.ErrNotExist when the parent is missing, else nil
}

// Error says what is wrong with which path.
func (e *UnsafeError) Error() string { return e.What + " " + e.Path + " " + e.Problem }

// Hint says how to fix it.
func (e *UnsafeError) Hint() string { return e.Fix }

// Unwrap is fs.ErrNotExist for a top directory whose parent is missing.
func (e *UnsafeError) Unwrap() error { return e.Err }

// MakeTop makes the top directory of the tree at path (mode 0700; its
// parent must exist) unless it is there, and checks it as Make does. Its
// parent must be the user's or root's and, when everyone may write in it,
// sticky (as /tmp is): else another user could rename path away and put a
// directory of theirs in its place after the check. (A group-writable
// parent is allowed: with a umask of 002 a user's own directories are,
// for a group of the user alone.)
func (d Dir) MakeTop(path string) error {
	if err := d.checkParent(path); err != nil {
		return err
	}
	st, err := d.make(path)
	if err != nil {
		return err
	}
	return d.checkTop(path, st)
}

// CheckTop checks the top directory at path as MakeTop would, without
// making it: exists reports whether it is there. Nothing is written.
func (d Dir) CheckTop(path string) (exists bool, err error) {
	if err := d.checkParent(path); err != nil {
		return false, err
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); errors.Is(err, unix.ENOENT) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("checking %s %s: %w", d.What, path, err)
	}
	return true, d.checkTop(path, st)
}

// checkParent checks the parent of the top directory at path: there,
// the user's or root's, and sticky when everyone may write in it.
func (d Dir) checkParent(path string) error {
	parent := filepath.Dir(path)
	var pst unix.Stat_t
	if err := unix.Stat(parent, &pst); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return &UnsafeError{What: d.What, Path: path, Problem: "cannot be made: " + parent + " does not exist",
				Fix: d.Elsewhere, Err: fs.ErrNotExist}
		}
		return fmt.Errorf("checking the parent of %s %s: %w", d.What, path, err)
	}
	switch {
	case int(pst.Uid) != os.Getuid() && pst.Uid != 0:
		return &UnsafeError{What: d.What, Path: path, Fix: d.Elsewhere,
			Problem: fmt.Sprintf("cannot be kept safe: its parent %s is owned by %s, who could replace it", parent, uidName(pst.Uid))}
	case pst.Mode&0o002 != 0 && pst.Mode&unix.S_ISVTX == 0:
		return &UnsafeError{What: d.What, Path: path, Fix: d.Elsewhere,
			Problem: fmt.Sprintf("cannot be kept safe: its parent %s (mode %04o) is writable by everyone and not sticky (as /tmp is), so anyone could replace it", parent, pst.Mode&0o7777)}
	}
	return nil
}

// checkTop checks the lstat st of the top directory at path, following
// a link of the user's own where d allows it.
func (d Dir) checkTop(path string, st unix.Stat_t) error {
	me := os.Getuid()
	if st.Mode&unix.S_IFMT == unix.S_IFLNK && d.FollowOwnLink && int(st.Uid) == me {
		if err := unix.Stat(path, &st); err != nil {
			return fmt.Errorf("checking %s %s: %w", d.What, path, err)
		}
	}
	return d.check(path, &st, me)
}

// Make makes a directory of the tree (mode 0700; its parent must exist)
// unless it is there, and checks what is there with lstat: a directory,
// not a symbolic link, owned by the user, with no more access for group
// and others than d allows. Nothing else is read or written. A directory
// that fails is an *UnsafeError with a hint.
func (d Dir) Make(path string) error {
	st, err := d.make(path)
	if err != nil {
		return err
	}
	return d.check(path, &st, os.Getuid())
}

// make makes path unless something is there, and lstats what is there.
func (d Dir) make(path string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Lstat(path, &st)
	if errors.Is(err, unix.ENOENT) {
		if err = unix.Mkdir(path, 0o700); err == nil || errors.Is(err, unix.EEXIST) {
			err = unix.Lstat(path, &st)
		}
	}
	if err != nil {
		return st, fmt.Errorf("making %s %s: %w", d.What, path, err)
	}
	return st, nil
}

// check checks the lstat of the directory at path for user me.
func (d Dir) check(path string, st *unix.Stat_t, me int) error {
	unsafe := func(problem, fix string) error {
		return &UnsafeError{What: d.What, Path: path, Problem: problem, Fix: fix}
	}
	perm := st.Mode & 0o777
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		target, _ := os.Readlink(path)
		problem := fmt.Sprintf("is a symbolic link (to %s)", target)
		if int(st.Uid) != me {
			return unsafe(problem+" owned by "+uidName(st.Uid), d.notMine())
		}
		return unsafe(problem, "nook follows no link here: remove it (rm "+path+"), and nook makes the directory itself")
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		problem := "is not a directory but " + kindName(uint32(st.Mode))
		if int(st.Uid) != me {
			return unsafe(problem+" owned by "+uidName(st.Uid), d.notMine())
		}
		return unsafe(problem, "remove it (rm "+path+"), and nook makes the directory")
	case int(st.Uid) != me:
		return unsafe(fmt.Sprintf("is owned by %s, not by you (uid %d)", uidName(st.Uid), me), d.notMine())
	case perm&0o022 != 0 && d.Access == Private:
		return unsafe(fmt.Sprintf("has mode %04o: other users can put files in it", perm),
			"it may hold what others put there: remove it with all it holds (rm -r "+path+"), and nook makes it afresh with mode 0700")
	case perm&0o022 != 0:
		return unsafe(fmt.Sprintf("has mode %04o: other users can put files in it", perm),
			"if you opened it to them, close it (chmod go-w "+path+"), and look whether anything in it is not yours")
	case d.Access == Private && perm&0o077 != 0:
		return unsafe(fmt.Sprintf("has mode %04o: other users can see what is in it", perm),
			"nook keeps it private, as ssh-agent and tmux keep theirs: chmod 700 "+path)
	}
	return nil
}

// notMine is the hint for a directory, or a link, of another user's.
func (d Dir) notMine() string {
	return "another user made it before nook did, maybe to catch what nook writes there; nook writes nothing there. " +
		"Have it removed (by its owner or an administrator), or " + d.Elsewhere
}

// uidName is "uid 1002 (eve)", or "uid 1002" when the user database does
// not know it.
func uidName(uid uint32) string {
	s := "uid " + strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil && u.Username != "" {
		s += " (" + u.Username + ")"
	}
	return s
}

// kindName names a file type for messages: "a named pipe (fifo)".
func kindName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "a regular file"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFLNK:
		return "a symbolic link"
	case unix.S_IFIFO:
		return "a named pipe (fifo)"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	case unix.S_IFSOCK:
		return "a socket"
	}
	return fmt.Sprintf("a file of type %#o", mode&unix.S_IFMT)
}
