package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// MaxRecord bounds a record nook reads back (a role's, a pod's): they are
// a few hundred bytes.
const MaxRecord = 1 << 20

// ErrUntrusted is what ReadOwned and OpenOwned fail with (errors.Is) for a
// file that nook did not write: not a regular file, or another user's.
var ErrUntrusted = errors.New("not a file nook wrote")

// Replace creates the file at path afresh for writing, appending, with
// mode 0600: what was there (the last run's file, a link or a hard link
// someone planted) is removed first, and the new file is made with O_EXCL,
// which follows no link. Nothing is written through what was there, and
// nobody keeps a descriptor of the new file.
func Replace(what, path string) (*os.File, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("removing the old %s %s: %w", what, path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating %s %s: %w", what, path, err)
	}
	return f, nil
}

// OpenAppend opens the file at path for appending, creating it (mode
// 0600). A symbolic link there is refused, not followed.
func OpenAppend(what, path string) (*os.File, error) {
	return openNoFollow(what, path, os.O_WRONLY|os.O_APPEND|os.O_CREATE)
}

// OpenLock opens (creating, mode 0600) the lock file at path for flock. A
// symbolic link there is refused, not followed.
func OpenLock(what, path string) (*os.File, error) {
	return openNoFollow(what, path, os.O_RDWR|os.O_CREATE)
}

func openNoFollow(what, path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return nil, &UnsafeError{What: what, Path: path, Problem: "is a symbolic link: nook writes through none",
			Fix: "remove it (rm " + path + "); nook makes the file itself"}
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s %s: %w", what, path, err)
	}
	return f, nil
}

// WriteFile replaces the file at path with data, mode 0600, atomically: a
// temporary file is made beside it with O_EXCL and renamed over path. A
// reader sees the old file or the new one; a link at path is replaced,
// never followed. The error names the file.
func WriteFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// OpenOwned opens a file nook wrote, to read it back: only a regular
// file owned by the user is trusted, not a link, a fifo or another user's
// file (ErrUntrusted). It does not block on a fifo.
func OpenOwned(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, &untrustedError{path: path, problem: "is a symbolic link"}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		unix.Close(fd)
		return nil, &untrustedError{path: path, problem: "is " + kindName(uint32(st.Mode))}
	case int(st.Uid) != os.Getuid():
		unix.Close(fd)
		return nil, &untrustedError{path: path, problem: "is owned by " + uidName(st.Uid)}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ReadOwned reads a record nook wrote, as OpenOwned opens it, at most
// MaxRecord bytes.
func ReadOwned(path string) ([]byte, error) {
	f, err := OpenOwned(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRecord+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > MaxRecord {
		return nil, &untrustedError{path: path, problem: fmt.Sprintf("is larger than %d bytes", MaxRecord)}
	}
	return data, nil
}

// untrustedError is a file nook did not write where it keeps its records.
type untrustedError struct {
	path, problem string
}

func (e *untrustedError) Error() string {
	return fmt.Sprintf("%s %s: not trusted as a file nook wrote", e.path, e.problem)
}

func (e *untrustedError) Is(target error) bool { return target == ErrUntrusted }

// Hint says how to be rid of it.
func (e *untrustedError) Hint() string {
	return "nook made no such file there: remove it (rm " + e.path + ")"
}
