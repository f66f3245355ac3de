package layers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// removeTree removes path and everything under it, even directories whose
// modes forbid it (a layer may hold 0555 or 0000 dirs). It never follows a
// symbolic link: a link is removed, not what it points to. A path that does
// not exist is not an error.
func removeTree(path string) error {
	parent, name := filepath.Split(filepath.Clean(path))
	if parent == "" {
		parent = "."
	}
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("removing %s: not a removable path", path)
	}
	dirfd, err := unix.Open(parent, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return fmt.Errorf("removing %s: opening %s: %w", path, parent, err)
	}
	defer unix.Close(dirfd)
	if err := removeAt(dirfd, name); err != nil {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}

// removeAt removes name in the directory dirfd and everything under it. It
// works from file descriptors and never follows a symbolic link, so it is safe
// inside a tree that a hostile layer has filled, and it makes a directory
// readable and writable before emptying it when the directory's mode forbids
// that. A name that does not exist is not an error.
func removeAt(dirfd int, name string) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if err != unix.EISDIR {
		return &os.PathError{Op: "unlinkat", Path: name, Err: err}
	}
	// A directory: try it empty first (the common case for a replaced entry).
	err = unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if err != unix.ENOTEMPTY && err != unix.EEXIST && err != unix.EACCES && err != unix.EPERM {
		return &os.PathError{Op: "rmdir", Path: name, Err: err}
	}
	if err := emptyDirAt(dirfd, name); err != nil {
		return err
	}
	if err := unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR); err != nil && err != unix.ENOENT {
		return &os.PathError{Op: "rmdir", Path: name, Err: err}
	}
	return nil
}

// emptyDirAt removes everything in the directory name in dirfd.
func emptyDirAt(dirfd int, name string) error {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(dirfd, name, flags, 0)
	if err == unix.EACCES {
		// An unreadable directory (0000, 0311…). unlinkat said EISDIR, so
		// name is a directory, not a link that fchmodat would follow.
		if err := unix.Fchmodat(dirfd, name, 0o700, 0); err != nil {
			return &os.PathError{Op: "chmod", Path: name, Err: err}
		}
		fd, err = unix.Openat(dirfd, name, flags, 0)
	}
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	dir := os.NewFile(uintptr(fd), name)
	defer dir.Close()
	// Read every name before unlinking any: unlinking while reading may skip
	// entries.
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return &os.PathError{Op: "readdir", Path: name, Err: err}
	}
	madeWritable := false
	for _, child := range names {
		err := removeAt(fd, child)
		var pathErr *os.PathError
		if !madeWritable && errors.As(err, &pathErr) && (pathErr.Err == unix.EACCES || pathErr.Err == unix.EPERM) {
			// A 0555 directory: its children cannot be unlinked until it
			// is writable. The open descriptor is this directory itself.
			if err := unix.Fchmod(fd, 0o700); err != nil {
				return &os.PathError{Op: "chmod", Path: name, Err: err}
			}
			madeWritable = true
			err = removeAt(fd, child)
		}
		if err != nil {
			if errors.As(err, &pathErr) {
				pathErr.Path = name + "/" + pathErr.Path
			}
			return err
		}
	}
	return nil
}
