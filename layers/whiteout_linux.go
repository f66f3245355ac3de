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

// stackFrom is the index of the lowest of the layers (DiffIDs, bottom
// first, all in the store) that a run must stack: the topmost one whose
// root directory is opaque hides everything below it (OCI image spec,
// "Opaque Whiteout"), which overlayfs would not do for a lower layer's
// root; 0 when there is none.
func (s *Store) stackFrom(layers []string) (int, error) {
	buf := make([]byte, 1)
	for i := len(layers) - 1; i > 0; i-- {
		dir, err := s.layerDir(layers[i])
		if err != nil {
			return 0, err
		}
		n, err := unix.Lgetxattr(dir, overlayOpaqueXattr, buf)
		switch {
		case err == nil && n == 1 && buf[0] == 'y':
			return i, nil
		case err != nil && err != unix.ENODATA && err != unix.ENOTSUP && err != unix.ERANGE:
			return 0, fmt.Errorf("reading %s of layer %s: %w", overlayOpaqueXattr, layers[i], err)
		}
	}
	return 0, nil
}
