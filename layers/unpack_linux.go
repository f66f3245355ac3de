package layers

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// copyBuffer is the size of the buffer regular files are written through.
const copyBuffer = 128 << 10

// readBuffer is the read-ahead on a tar stream that is not buffered yet.
const readBuffer = 64 << 10

// unpacker holds the state of one Unpack.
type unpacker struct {
	root int // O_PATH descriptor of the layer directory: every path is resolved from it

	// The last parent directory resolved, so that the entries of one
	// directory, which tar streams keep together, cost no path walk.
	// stale is set when an entry was removed: the cached path might then
	// resolve elsewhere, so it is resolved again on next use.
	parent   string
	parentFd int
	stale    bool

	// umask is the process umask when it alone decides the mode of a new
	// file (no default ACL on dir), or -1: files whose mode it would not
	// change are then created with their mode and need no fchmod.
	umask int

	buf   []byte // reused for the data of every regular file
	zeros []byte // all zeros, to find the holes of sparse files; made on first use

	// dirs holds the mode and times of each directory, applied once every
	// entry is written; dirIndex finds a directory's record by name.
	dirs     []dirMeta
	dirIndex map[string]int

	stats   Unpacked        // what the caller learns besides the files
	devices map[string]bool // the devices skipped, by clean name: hard links to them are skipped too
}

func unpack(r io.Reader, dir string) (Unpacked, error) {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Unpacked{}, fmt.Errorf("unpacking layer into %s: %w", dir, &os.PathError{Op: "open", Path: dir, Err: err})
	}
	u := &unpacker{
		root:     root,
		parentFd: -1,
		umask:    creationUmask(dir),
		buf:      make([]byte, copyBuffer),
		dirIndex: make(map[string]int),
	}
	defer u.close()

	// tar reads each 512-byte header and each padding on its own: without a
	// buffer, a file or pipe would cost a system call for each.
	if _, ok := r.(*bufio.Reader); !ok {
		r = bufio.NewReaderSize(r, readBuffer)
	}
	tr := tar.NewReader(r)
	last := ""
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			// Our own checks judge names; any other error is a broken stream.
			if last == "" {
				return u.stats, fmt.Errorf("unpacking layer into %s: reading tar: %w", dir, err)
			}
			return u.stats, fmt.Errorf("unpacking layer into %s: reading tar after entry %q: %w", dir, last, err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return u.stats, fmt.Errorf("unpacking layer into %s: %w", dir, err)
		}
		last = hdr.Name
	}
	if err := u.finishDirs(); err != nil {
		return u.stats, fmt.Errorf("unpacking layer into %s: %w", dir, err)
	}
	// The end-of-archive blocks may be followed by padding: the DiffID
	// covers it too.
	if _, err := io.CopyBuffer(io.Discard, r, u.buf); err != nil {
		return u.stats, fmt.Errorf("unpacking layer into %s: reading to the end of the stream: %w", dir, err)
	}
	return u.stats, nil
}

// skipDevice counts a device entry, which is not created.
func (u *unpacker) skipDevice(name string) {
	u.stats.skipDevice(name)
	if u.devices == nil {
		u.devices = map[string]bool{}
	}
	u.devices[name] = true
}

func (u *unpacker) close() {
	if u.parentFd >= 0 {
		unix.Close(u.parentFd)
		u.parentFd = -1
	}
	unix.Close(u.root)
}

// entry writes one tar entry.
func (u *unpacker) entry(hdr *tar.Header, tr *tar.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // PAX global header: metadata for the archive, not a file
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return refuse(hdr, err.Error())
	}
	parent, base := splitName(name)

	switch kind, hidden := parseWhiteout(base); kind {
	case whiteoutFile:
		if hidden == "" || hidden == "." || hidden == ".." {
			return refuse(hdr, "malformed whiteout name")
		}
		return u.whiteout(hdr, parent, hidden)
	case whiteoutDir:
		return u.opaque(hdr, parent)
	case whiteoutIgnore:
		return nil
	}

	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeFifo:
	case tar.TypeChar:
		if hdr.Devmajor != 0 || hdr.Devminor != 0 {
			u.skipDevice(name)
			return nil
		}
	case tar.TypeBlock:
		u.skipDevice(name)
		return nil
	default:
		return refuse(hdr, fmt.Sprintf("unsupported entry type %q", hdr.Typeflag))
	}
	if name == "" {
		if hdr.Typeflag == tar.TypeDir {
			return nil // "./": the layer directory itself belongs to the store
		}
		return refuse(hdr, "names the layer root")
	}

	var target string
	if hdr.Typeflag == tar.TypeLink {
		// A hard link names an earlier entry, so it obeys the same rules.
		if target, err = cleanName(hdr.Linkname); err != nil {
			return refuse(hdr, fmt.Sprintf("hard link target %q: %v", hdr.Linkname, err))
		}
		// "d/", "d/." and "." name a directory (a symbolic link's target
		// at most), never something a hard link may share.
		if last := hdr.Linkname[strings.LastIndexByte(hdr.Linkname, '/')+1:]; target == "" || last == "" || last == "." {
			return refuse(hdr, fmt.Sprintf("hard link to directory %q", hdr.Linkname))
		}
		if u.devices[target] {
			u.skipDevice(name) // another name of a device
			return nil
		}
	}

	pfd, err := u.parentDir(parent)
	if err != nil {
		return entryError(hdr, fmt.Sprintf("resolving parent directory %q", parent), err)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.mkdir(hdr, pfd, name, base)
	case tar.TypeSymlink:
		return u.symlink(hdr, pfd, base)
	case tar.TypeLink:
		return u.hardlink(hdr, pfd, parent, base, target)
	case tar.TypeFifo, tar.TypeChar:
		return u.mknod(hdr, pfd, base)
	default:
		return u.file(hdr, tr, pfd, base)
	}
}

// file writes a regular file.
func (u *unpacker) file(hdr *tar.Header, tr *tar.Reader, pfd int, base string) error {
	mode := uint32(hdr.Mode) & 0o7777
	xattrs := hasKeptXattrs(hdr)
	// Create the file with its mode when the umask keeps it: then no fchmod.
	// Set-id bits are set after the data (a write clears them) and xattrs
	// before the mode (setting one needs write permission).
	perm := mode & 0o777
	chmod := mode&0o7000 != 0 || xattrs || u.umask < 0 || perm&^uint32(u.umask) != perm
	if chmod {
		perm = 0o600
	}
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(pfd, base, flags, perm)
	if err == unix.EEXIST {
		if err = u.removeExisting(pfd, base); err == nil {
			fd, err = unix.Openat(pfd, base, flags, perm)
		}
	}
	if err != nil {
		return entryError(hdr, "creating file", err)
	}
	if err := u.writeData(fd, tr, hdr.Size, isSparse(hdr)); err != nil {
		unix.Close(fd)
		return entryError(hdr, "writing file", err)
	}
	if xattrs {
		if err := setXattrs(hdr, fd); err != nil {
			unix.Close(fd)
			return err
		}
	}
	if chmod {
		if err := unix.Fchmod(fd, mode); err != nil {
			unix.Close(fd)
			return entryError(hdr, fmt.Sprintf("setting mode %04o", mode), err)
		}
	}
	times := entryTimes(hdr)
	if err := futimens(fd, &times); err != nil {
		unix.Close(fd)
		return entryError(hdr, "setting times", err)
	}
	if err := unix.Close(fd); err != nil {
		return entryError(hdr, "closing file", err)
	}
	return nil
}

// writeData copies size bytes of the entry's data to fd through u.buf. The
// holes of a sparse file (which tar reads back as zeros) are skipped, not
// written, so a small hostile layer cannot fill the disk with a huge sparse
// file and a real one stays sparse.
func (u *unpacker) writeData(fd int, r io.Reader, size int64, sparse bool) error {
	if sparse && u.zeros == nil {
		u.zeros = make([]byte, len(u.buf))
	}
	hole := false // the file ends in a hole: its size is set at the end
	for size > 0 {
		n, err := r.Read(u.buf[:min(int64(len(u.buf)), size)])
		if n > 0 {
			size -= int64(n)
			if hole = sparse && bytes.Equal(u.buf[:n], u.zeros[:n]); hole {
				if _, err := unix.Seek(fd, int64(n), io.SeekCurrent); err != nil {
					return err
				}
			} else if err := writeAll(fd, u.buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF && size > 0 {
			return io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return err
		}
		if n == 0 && err == nil {
			return io.ErrNoProgress
		}
	}
	if hole {
		end, err := unix.Seek(fd, 0, io.SeekCurrent)
		if err != nil {
			return err
		}
		return unix.Ftruncate(fd, end)
	}
	return nil
}

// writeAll writes p to fd.
func writeAll(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := unix.Write(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// isSparse reports whether hdr is a GNU sparse file, old or PAX style.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for key := range hdr.PAXRecords {
		if strings.HasPrefix(key, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// mkdir creates a directory, or keeps one already there with its children,
// and records its mode and times for finishDirs. Until then it is 0700, so
// its children can be written whatever its mode.
func (u *unpacker) mkdir(hdr *tar.Header, pfd int, name, base string) error {
	err := unix.Mkdirat(pfd, base, 0o700)
	if err == unix.EEXIST {
		var st unix.Stat_t
		if err = unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				err = nil // a directory over a directory keeps its children
			} else if err = u.removeExisting(pfd, base); err == nil {
				err = unix.Mkdirat(pfd, base, 0o700)
			}
		}
	}
	if err != nil {
		return entryError(hdr, "creating directory", err)
	}
	u.recordDir(name, uint32(hdr.Mode)&0o7777, entryTimes(hdr), true)
	if !hasKeptXattrs(hdr) {
		return nil
	}
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return entryError(hdr, "opening directory", err)
	}
	defer unix.Close(fd)
	return setXattrs(hdr, fd)
}

// symlink creates a symbolic link. Its target is never followed here; paths
// through it are resolved inside the layer.
func (u *unpacker) symlink(hdr *tar.Header, pfd int, base string) error {
	err := unix.Symlinkat(hdr.Linkname, pfd, base)
	if err == unix.EEXIST {
		if err = u.removeExisting(pfd, base); err == nil {
			err = unix.Symlinkat(hdr.Linkname, pfd, base)
		}
	}
	if err != nil {
		return entryError(hdr, fmt.Sprintf("creating symbolic link to %q", hdr.Linkname), err)
	}
	times := entryTimes(hdr)
	if err := unix.UtimesNanoAt(pfd, base, times[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return entryError(hdr, "setting times", err)
	}
	return nil
}

// hardlink links base in pfd to target, an earlier regular file or symbolic
// link of the layer. The link itself is never followed (no
// AT_SYMLINK_FOLLOW): a link to a symbolic link links the symbolic link.
func (u *unpacker) hardlink(hdr *tar.Header, pfd int, parent, base, target string) error {
	tparent, tbase := splitName(target)
	tpfd := pfd
	switch {
	case tparent == parent:
	case tparent == "":
		tpfd = u.root
	default:
		fd, err := u.openInRoot(tparent, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
		if err == unix.ENOENT || err == unix.ENOTDIR {
			return refuse(hdr, fmt.Sprintf("hard link target %q is not in the layer", hdr.Linkname))
		}
		if err != nil {
			return entryError(hdr, fmt.Sprintf("resolving hard link target %q", hdr.Linkname), err)
		}
		defer unix.Close(fd)
		tpfd = fd
	}
	var tst unix.Stat_t
	if err := unix.Fstatat(tpfd, tbase, &tst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if err == unix.ENOENT || err == unix.ENOTDIR {
			return refuse(hdr, fmt.Sprintf("hard link target %q is not in the layer", hdr.Linkname))
		}
		return entryError(hdr, fmt.Sprintf("inspecting hard link target %q", hdr.Linkname), err)
	}
	if t := tst.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFLNK {
		return refuse(hdr, fmt.Sprintf("hard link target %q is not a regular file or symbolic link", hdr.Linkname))
	}
	err := unix.Linkat(tpfd, tbase, pfd, base, 0)
	if err == unix.EEXIST {
		var st unix.Stat_t
		if err = unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
			if st.Dev == tst.Dev && st.Ino == tst.Ino {
				return nil // already this file
			}
			if err = u.removeExisting(pfd, base); err == nil {
				err = unix.Linkat(tpfd, tbase, pfd, base, 0)
			}
		}
	}
	if err != nil {
		return entryError(hdr, fmt.Sprintf("linking to %q", hdr.Linkname), err)
	}
	return nil
}

// mknod creates a FIFO, or the 0/0 character device that overlayfs reads as
// a whiteout (entry skipped every other device).
func (u *unpacker) mknod(hdr *tar.Header, pfd int, base string) error {
	mode := uint32(hdr.Mode) & 0o7777
	typ := uint32(unix.S_IFIFO)
	if hdr.Typeflag == tar.TypeChar {
		typ = unix.S_IFCHR
	}
	err := unix.Mknodat(pfd, base, typ|mode&0o777, 0)
	if err == unix.EEXIST {
		if err = u.removeExisting(pfd, base); err == nil {
			err = unix.Mknodat(pfd, base, typ|mode&0o777, 0)
		}
	}
	if err != nil {
		return entryError(hdr, "creating special file", err)
	}
	if mode&0o7000 != 0 || u.umask < 0 || mode&^uint32(u.umask) != mode {
		// base was just made by mknodat, so it is no symbolic link that
		// fchmodat would follow.
		if err := unix.Fchmodat(pfd, base, mode, 0); err != nil {
			return entryError(hdr, fmt.Sprintf("setting mode %04o", mode), err)
		}
	}
	times := entryTimes(hdr)
	if err := unix.UtimesNanoAt(pfd, base, times[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return entryError(hdr, "setting times", err)
	}
	return nil
}

// setXattrs sets on fd the extended attributes of hdr that keepXattr allows.
func setXattrs(hdr *tar.Header, fd int) error {
	for key, value := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(key, xattrPrefix)
		if !ok || !keepXattr(name) {
			continue
		}
		if err := unix.Fsetxattr(fd, name, []byte(value), 0); err != nil {
			return entryError(hdr, "setting xattr "+name, err)
		}
	}
	return nil
}

// removeExisting removes what is at base in pfd so an entry can replace it.
func (u *unpacker) removeExisting(pfd int, base string) error {
	// The cached parent may have been reached through what is removed.
	u.stale = true
	return removeAt(pfd, base)
}
