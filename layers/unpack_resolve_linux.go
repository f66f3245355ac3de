package layers

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// inRoot resolves a path inside the layer as if the layer were "/": an
// absolute or "../.." symbolic link stays inside it, /proc magic links and
// mount crossings are refused.
const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// parentDir returns an O_PATH descriptor of the directory parent, resolved
// inside the layer and made (with its missing ancestors) if the layer has no
// entry for it yet. The descriptor belongs to u: callers do not close it.
func (u *unpacker) parentDir(parent string) (int, error) {
	if parent == "" {
		return u.root, nil
	}
	if u.parentFd >= 0 && !u.stale && parent == u.parent {
		return u.parentFd, nil
	}
	if u.parentFd >= 0 {
		unix.Close(u.parentFd)
		u.parentFd = -1
	}
	u.stale = false
	fd, err := u.openInRoot(parent, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err == unix.ENOENT {
		fd, err = u.mkdirAll(parent)
	}
	if err != nil {
		return -1, err
	}
	u.parent, u.parentFd = parent, fd
	return fd, nil
}

// mkdirAll makes the missing directories of name, a path that does not
// resolve yet, and returns an O_PATH descriptor of it. A tar stream need not
// hold entries for parent directories; made ones get mode 0755, as with
// containerd and Docker.
func (u *unpacker) mkdirAll(name string) (int, error) {
	const pathFlags = unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC
	fd, owned := u.root, false
	closeFd := func() {
		if owned {
			unix.Close(fd)
		}
	}
	made := false // once one directory is made, the rest are new too
	for start := 0; start < len(name); {
		end := strings.IndexByte(name[start:], '/')
		if end < 0 {
			end = len(name)
		} else {
			end += start
		}
		prefix, comp := name[:end], name[start:end]
		start = end + 1

		var nfd int
		var err error
		if !made {
			nfd, err = u.openInRoot(prefix, pathFlags)
		}
		if made || err == unix.ENOENT {
			if err = unix.Mkdirat(fd, comp, 0o700); err == unix.EEXIST {
				// The name exists but does not resolve: a symbolic link
				// to nothing in the layer. containerd would make its
				// target; a layer that needs that is too odd to guess for.
				err = fmt.Errorf("%q is a symbolic link to nothing inside the layer", prefix)
			}
			if err == nil {
				made = true
				u.recordDir(prefix, 0o755, [2]unix.Timespec{}, false)
				nfd, err = unix.Openat(fd, comp, pathFlags|unix.O_NOFOLLOW, 0)
			}
		}
		closeFd()
		if err != nil {
			return -1, err
		}
		fd, owned = nfd, true
	}
	return fd, nil
}

// openInRoot opens name resolved inside the layer.
func (u *unpacker) openInRoot(name string, flags uint64) (int, error) {
	how := unix.OpenHow{Flags: flags, Resolve: inRoot}
	for {
		fd, err := unix.Openat2(u.root, name, &how)
		// EAGAIN: a rename elsewhere on the system raced the lookup.
		if err != unix.EAGAIN && err != unix.EINTR {
			return fd, err
		}
	}
}
