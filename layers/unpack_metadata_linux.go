package layers

import (
	"archive/tar"
	"bytes"
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dirMeta is the metadata applied to a directory after all entries.
type dirMeta struct {
	name     string
	mode     uint32
	times    [2]unix.Timespec // atime, mtime
	setTimes bool
}

// recordDir records (or updates) the metadata finishDirs applies to the
// directory name.
func (u *unpacker) recordDir(name string, mode uint32, times [2]unix.Timespec, setTimes bool) {
	meta := dirMeta{name: name, mode: mode, times: times, setTimes: setTimes}
	if i, ok := u.dirIndex[name]; ok {
		u.dirs[i] = meta
		return
	}
	u.dirIndex[name] = len(u.dirs)
	u.dirs = append(u.dirs, meta)
}

// finishDirs applies the recorded mode and times of every directory, now
// that no entry will be written into them. Directories that stay searchable
// come first, in any order; then those whose mode forbids searching them,
// deepest first, so none is closed before what is under it is done.
func (u *unpacker) finishDirs() error {
	var closed []dirMeta
	for _, d := range u.dirs {
		if d.mode&0o100 == 0 {
			closed = append(closed, d)
			continue
		}
		if err := u.finishDir(d); err != nil {
			return err
		}
	}
	slices.SortStableFunc(closed, func(a, b dirMeta) int {
		return cmp.Compare(strings.Count(b.name, "/"), strings.Count(a.name, "/"))
	})
	for _, d := range closed {
		if err := u.finishDir(d); err != nil {
			return err
		}
	}
	return nil
}

// finishDir applies the mode and times of one directory.
func (u *unpacker) finishDir(d dirMeta) error {
	fd, err := u.openInRoot(d.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	if err == unix.ENOENT || err == unix.ENOTDIR || err == unix.ELOOP {
		return nil // a later entry replaced or removed it
	}
	if err != nil {
		return &EntryError{Name: d.name, Op: "opening directory", Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fchmod(fd, d.mode); err != nil {
		return &EntryError{Name: d.name, Op: fmt.Sprintf("setting mode %04o", d.mode), Err: err}
	}
	if d.setTimes {
		if err := futimens(fd, &d.times); err != nil {
			return &EntryError{Name: d.name, Op: "setting times", Err: err}
		}
	}
	return nil
}

// entryTimes returns the access and modification times of an entry: its
// mtime, and its atime when the header has one.
func entryTimes(hdr *tar.Header) [2]unix.Timespec {
	mtime := timespec(hdr.ModTime)
	atime := mtime
	if !hdr.AccessTime.IsZero() {
		atime = timespec(hdr.AccessTime)
	}
	return [2]unix.Timespec{atime, mtime}
}

func timespec(t time.Time) unix.Timespec {
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// futimens sets the times of the file open as fd (utimensat with a NULL
// path, which x/sys/unix does not wrap).
func futimens(fd int, times *[2]unix.Timespec) error {
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(times)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// creationUmask returns the umask that, alone, trims the mode of files made
// in dir, or -1 when that is unknown or not so: a default ACL on dir
// replaces the umask. The umask is read from /proc, never set: setting it,
// even to restore it, would race other goroutines making files.
func creationUmask(dir string) int {
	if _, err := unix.Getxattr(dir, "system.posix_acl_default", nil); err != unix.ENODATA {
		return -1 // a default ACL, or no way to know
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	_, rest, ok := bytes.Cut(status, []byte("\nUmask:"))
	if !ok {
		return -1
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	mask, err := strconv.ParseUint(string(bytes.TrimSpace(line)), 8, 32)
	if err != nil {
		return -1
	}
	return int(mask)
}
