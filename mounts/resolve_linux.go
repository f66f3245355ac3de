package mounts

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Targets inside the new root are resolved with openat2 relative to the
// root's descriptor, with RESOLVE_IN_ROOT: an image's symlinks, absolute or
// full of "..", resolve as if the new root were "/" and never reach the
// host. Magic links (/proc/self/root, …) are refused outright. Mount
// points are then opened as O_PATH descriptors and mounts moved onto them,
// never onto a joined host path that the kernel would resolve again.
const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openInRoot opens the path p, inside the root rootfd, as an O_PATH
// descriptor with flags added.
func openInRoot(rootfd int, p string, flags uint64) (int, error) {
	return openat2InRoot(rootfd, p, &unix.OpenHow{Flags: flags | unix.O_PATH | unix.O_CLOEXEC, Resolve: inRoot})
}

// openat2InRoot opens p, taken relative to the root at rootfd, with how,
// again while a rename or a signal races the lookup.
func openat2InRoot(rootfd int, p string, how *unix.OpenHow) (int, error) {
	rel := strings.TrimLeft(path.Clean("/"+p), "/")
	if rel == "" {
		rel = "."
	}
	for {
		fd, err := unix.Openat2(rootfd, rel, how)
		// EAGAIN: a rename raced the lookup; EINTR: a signal did.
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		return fd, err
	}
}

// dirInRoot opens the directory dir inside the root, making each missing
// element with mode. A dangling symlink on the way is replaced by a
// directory; a symlink to a directory is followed, inside the root.
func dirInRoot(rootfd int, dir string, mode uint32) (int, error) {
	fd, err := openInRoot(rootfd, "/", unix.O_DIRECTORY)
	if err != nil {
		return -1, err
	}
	cur := "/"
	for _, name := range strings.Split(strings.Trim(path.Clean(dir), "/"), "/") {
		if name == "" {
			continue
		}
		next := path.Join(cur, name)
		nfd, err := openInRoot(rootfd, next, unix.O_DIRECTORY)
		if errors.Is(err, unix.ENOENT) {
			if err = makeDir(fd, name, mode); err == nil {
				nfd, err = openInRoot(rootfd, next, unix.O_DIRECTORY)
			}
		}
		unix.Close(fd)
		if err != nil {
			return -1, fmt.Errorf("%s: %w", next, err)
		}
		fd, cur = nfd, next
	}
	return fd, nil
}

// makeDir makes the directory name in the directory parentfd, replacing
// a dangling symlink of that name.
func makeDir(parentfd int, name string, mode uint32) error {
	if isSymlink(parentfd, name) {
		if err := unix.Unlinkat(parentfd, name, 0); err != nil {
			return err
		}
	}
	if err := unix.Mkdirat(parentfd, name, mode); err != nil && err != unix.EEXIST {
		return err
	}
	return nil
}

func isSymlink(dirfd int, name string) bool {
	var st unix.Stat_t
	return unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// mountPoint opens target inside the root as an O_PATH descriptor to
// mount onto: a directory when dir is set, else a file. A missing target
// is made (a directory, or an empty file); a symlink in its place is
// replaced. Only where the symlink cannot be removed (its directory is a
// read-only bind, as with the host base) is it followed, inside the root.
func mountPoint(rootfd int, target string, dir bool) (int, error) {
	parent, name := path.Split(path.Clean(target))
	if name == "" {
		return -1, errors.New("the new root itself is not a mount point for a bind")
	}
	pfd, err := dirInRoot(rootfd, parent, 0o755)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	err = unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case errors.Is(err, unix.ENOENT):
		err = makeMountPoint(pfd, name, dir)
	case err != nil:
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		if err = unix.Unlinkat(pfd, name, 0); errors.Is(err, unix.EROFS) {
			fd, err := openInRoot(rootfd, target, 0)
			if err != nil {
				return -1, fmt.Errorf("following the symlink %s in a read-only directory: %w", target, err)
			}
			return checkKind(fd, target, dir)
		}
		if err == nil {
			err = makeMountPoint(pfd, name, dir)
		}
	}
	if err != nil {
		return -1, err
	}
	fd, err := unix.Openat(pfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	return checkKind(fd, target, dir)
}

// makeMountPoint makes name in parentfd: a directory, or an empty file.
func makeMountPoint(parentfd int, name string, dir bool) error {
	if dir {
		return unix.Mkdirat(parentfd, name, 0o755)
	}
	fd, err := unix.Openat(parentfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// checkKind returns fd when it is of the kind wanted, a directory or not;
// else it closes fd and refuses to mount a directory onto a file or a file
// onto a directory.
func checkKind(fd int, target string, dir bool) (int, error) {
	var st unix.Stat_t
	err := unix.Fstat(fd, &st)
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	switch {
	case err != nil:
	case dir && !isDir:
		err = fmt.Errorf("%s is not a directory, and the source is one: %w", target, unix.ENOTDIR)
	case !dir && isDir:
		err = fmt.Errorf("%s is a directory, and the source is not: %w", target, unix.EISDIR)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// symlinkInRoot makes target, inside the root, a symlink to link,
// replacing a symlink already there.
func symlinkInRoot(rootfd int, target, link string) error {
	parent, name := path.Split(path.Clean(target))
	if name == "" {
		return errors.New("the new root cannot be a symlink")
	}
	pfd, err := dirInRoot(rootfd, parent, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if isSymlink(pfd, name) {
		if err := unix.Unlinkat(pfd, name, 0); err != nil {
			return err
		}
	}
	return unix.Symlinkat(link, pfd, name)
}
