package export

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"
)

// OCI whiteout names (image-spec layer.md, "Whiteouts").
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// tarWriter writes the entries of one layer in a deterministic form:
// modification times clamped to clamp and cut to whole seconds, no access
// or change times, no user or group names, hard links to a file already
// written as links to its first name.
type tarWriter struct {
	tw    *tar.Writer
	clamp time.Time
	links map[inode]string // first name of each file with several links
	buf   []byte
}

type inode struct{ dev, ino uint64 }

func newTarWriter(w io.Writer, clamp time.Time) *tarWriter {
	return &tarWriter{tw: tar.NewWriter(w), clamp: clamp, links: map[inode]string{}, buf: make([]byte, 128<<10)}
}

// mtime is t clamped and cut to seconds.
func (t *tarWriter) mtime(m time.Time) time.Time {
	if m.After(t.clamp) {
		m = t.clamp
	}
	return time.Unix(m.Unix(), 0).UTC()
}

// entry writes the file at host (lstat as fi) under name, owned by uid and
// gid, with the extended attributes xattrs. Sockets and device nodes are
// left out: no layer nook makes holds any (overlay whiteouts are the
// caller's).
func (t *tarWriter) entry(name, host string, fi fs.FileInfo, uid, gid int, xattrs map[string]string) error {
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(fi.Mode().Perm()),
		Uid:     uid,
		Gid:     gid,
		ModTime: t.mtime(fi.ModTime()),
		Format:  tar.FormatPAX,
	}
	if fi.Mode()&fs.ModeSetuid != 0 {
		hdr.Mode |= 0o4000
	}
	if fi.Mode()&fs.ModeSetgid != 0 {
		hdr.Mode |= 0o2000
	}
	if fi.Mode()&fs.ModeSticky != 0 {
		hdr.Mode |= 0o1000
	}
	for k, v := range xattrs {
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+k] = v
	}
	var st *syscall.Stat_t
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		st = s
	}
	switch {
	case fi.IsDir():
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(host)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case fi.Mode()&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
	case fi.Mode().IsRegular():
		if st != nil && st.Nlink > 1 {
			id := inode{uint64(st.Dev), st.Ino}
			if first, ok := t.links[id]; ok {
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
				return t.tw.WriteHeader(hdr)
			}
			t.links[id] = name
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
		return t.file(hdr, host)
	default:
		return nil
	}
	return t.tw.WriteHeader(hdr)
}

// file writes a regular file's header and content, which must still be
// hdr.Size bytes long.
func (t *tarWriter) file(hdr *tar.Header, host string) error {
	f, err := os.OpenFile(host, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.CopyBuffer(t.tw, io.LimitReader(f, hdr.Size), t.buf)
	if err != nil {
		return fmt.Errorf("reading %s: %w", host, err)
	}
	if n != hdr.Size {
		return fmt.Errorf("reading %s: it changed size while being read", host)
	}
	return nil
}

// whiteout writes the OCI whiteout of name (".wh." + its base name).
func (t *tarWriter) whiteout(name string, mtime time.Time) error {
	dir, base := path.Split(name)
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dir + whiteoutPrefix + base,
		ModTime: t.mtime(mtime), Format: tar.FormatPAX})
}

// opaque writes the OCI marker that makes directory dir opaque.
func (t *tarWriter) opaque(dir string, mtime time.Time) error {
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path.Join(dir, whiteoutOpaque),
		ModTime: t.mtime(mtime), Format: tar.FormatPAX})
}

// dir writes a directory entry that has no file behind it (the parents of
// the project's workdir).
func (t *tarWriter) dir(name string) error {
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755,
		ModTime: t.clamp.UTC(), Format: tar.FormatPAX})
}

func (t *tarWriter) close() error { return t.tw.Close() }
