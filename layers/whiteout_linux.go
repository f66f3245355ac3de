package layers

import (
	"archive/tar"
	"fmt"

	"golang.org/x/sys/unix"
)

// whiteout turns ".wh.NAME" in parent into an overlay whiteout at NAME: a
// 0/0 character device, which unprivileged users may create since Linux 5.8.
func (u *unpacker) whiteout(hdr *tar.Header, parent, hidden string) error {
	pfd, err := u.parentDir(parent)
	if err != nil {
		return entryError(hdr, fmt.Sprintf("resolving parent directory %q", parent), err)
	}
	err = unix.Mknodat(pfd, hidden, unix.S_IFCHR, 0)
	if err == unix.EEXIST {
		if err = u.removeExisting(pfd, hidden); err == nil {
			err = unix.Mknodat(pfd, hidden, unix.S_IFCHR, 0)
		}
	}
	if err != nil {
		return entryError(hdr, "creating whiteout device", err)
	}
	times := entryTimes(hdr)
	if err := unix.UtimesNanoAt(pfd, hidden, times[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return entryError(hdr, "setting whiteout times", err)
	}
	return nil
}

// opaque marks parent, made if the layer has not yet, as an opaque
// directory.
func (u *unpacker) opaque(hdr *tar.Header, parent string) error {
	pfd, err := u.parentDir(parent)
	if err != nil {
		return entryError(hdr, fmt.Sprintf("resolving directory %q", parent), err)
	}
	// fsetxattr needs a real descriptor, not the O_PATH one.
	fd, err := unix.Openat(pfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return entryError(hdr, "opening opaque directory", err)
	}
	defer unix.Close(fd)
	if err := unix.Fsetxattr(fd, overlayOpaqueXattr, []byte{'y'}, 0); err != nil {
		return entryError(hdr, "setting "+overlayOpaqueXattr, err)
	}
	return nil
}
