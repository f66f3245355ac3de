//go:build linux

package layers

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tarEntry is one entry of a test layer: a header and, for a regular file,
// its data (Size is set from it).
type tarEntry struct {
	tar.Header
	Data string
}

// testMtime is the mtime of test entries that do not set one.
var testMtime = time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)

func regEntry(name, data string, mode int64) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode}, Data: data}
}

func dirEntry(name string, mode int64) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}}
}

func symlinkEntry(name, target string) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

func linkEntry(name, target string) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}}
}

func nodeEntry(name string, typ byte, major, minor int64) tarEntry {
	return tarEntry{Header: tar.Header{Typeflag: typ, Name: name, Mode: 0o644, Devmajor: major, Devminor: minor}}
}

// withXattrs returns e carrying the extended attributes kv (name, value, …)
// as SCHILY.xattr PAX records.
func withXattrs(e tarEntry, kv ...string) tarEntry {
	if e.PAXRecords == nil {
		e.PAXRecords = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		e.PAXRecords[xattrPrefix+kv[i]] = kv[i+1]
	}
	return e
}

// writeLayerTar returns the tar stream of entries, as a layer blob holds it
// uncompressed.
func writeLayerTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.Header
		if hdr.ModTime.IsZero() {
			hdr.ModTime = testMtime
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.Data))
		}
		if len(hdr.PAXRecords) > 0 {
			hdr.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatalf("writing tar header %q: %v", hdr.Name, err)
		}
		if _, err := io.WriteString(tw, e.Data); err != nil {
			t.Fatalf("writing tar data %q: %v", hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("closing tar: %v", err)
	}
	return buf.Bytes()
}

// unpackEntries unpacks entries into a new directory and returns it. The
// directory is removed with removeTree at the end of the test, which also
// tests that whatever a layer holds can be removed.
func unpackEntries(t *testing.T, entries ...tarEntry) string {
	t.Helper()
	dir := newLayerDir(t)
	if _, err := Unpack(bytes.NewReader(writeLayerTar(t, entries...)), dir); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	return dir
}

// newLayerDir returns an empty directory for a layer, removed with
// removeTree when the test ends.
func newLayerDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layer")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeTree(dir); err != nil {
			t.Errorf("removeTree(%s): %v", dir, err)
		}
	})
	return dir
}

func lstat(t *testing.T, path string) *unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatalf("lstat: %v", err)
	}
	return &st
}

func wantContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s holds %q, want %q", path, got, want)
	}
}

func wantMode(t *testing.T, path string, typ, perm uint32) {
	t.Helper()
	st := lstat(t, path)
	if st.Mode&unix.S_IFMT != typ || st.Mode&0o7777 != perm {
		t.Errorf("%s: mode %o, want type %o perm %04o", path, st.Mode, typ, perm)
	}
}

func wantAbsent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (err %v), want it absent", path, err)
	}
}

// xattrNames lists the extended attributes of path without following a link.
func xattrNames(t *testing.T, path string) []string {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(path, buf)
	if err != nil {
		t.Fatalf("listxattr %s: %v", path, err)
	}
	var names []string
	for name := range strings.SplitSeq(string(buf[:n]), "\x00") {
		if name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func TestUnpackFilesAndModes(t *testing.T) {
	dir := unpackEntries(t,
		dirEntry("etc/", 0o755),
		regEntry("etc/hostname", "box\n", 0o644),
		regEntry("etc/shadow", "root:*:\n", 0o640),
		regEntry("etc/readonly", "ro", 0o444),
		regEntry("etc/none", "", 0o000),
		dirEntry("usr/", 0o755),
		dirEntry("usr/bin/", 0o555), // children follow a dir the user cannot write
		regEntry("usr/bin/sudo", "#!suid", 0o4755),
		regEntry("usr/bin/wall", "#!sgid", 0o2755),
		regEntry("usr/bin/big", strings.Repeat("0123456789abcdef", 50000), 0o755), // several 128 KiB writes
		dirEntry("tmp/", 0o1777),
		dirEntry("secret/", 0o700),
		dirEntry("locked/", 0o000),
		regEntry("locked/inside", "x", 0o644),
	)
	wantContent(t, filepath.Join(dir, "etc/hostname"), "box\n")
	wantContent(t, filepath.Join(dir, "usr/bin/big"), strings.Repeat("0123456789abcdef", 50000))
	wantMode(t, filepath.Join(dir, "etc"), unix.S_IFDIR, 0o755)
	wantMode(t, filepath.Join(dir, "etc/hostname"), unix.S_IFREG, 0o644)
	wantMode(t, filepath.Join(dir, "etc/shadow"), unix.S_IFREG, 0o640)
	wantMode(t, filepath.Join(dir, "etc/readonly"), unix.S_IFREG, 0o444)
	wantMode(t, filepath.Join(dir, "etc/none"), unix.S_IFREG, 0o000)
	wantMode(t, filepath.Join(dir, "usr/bin"), unix.S_IFDIR, 0o555)
	wantMode(t, filepath.Join(dir, "usr/bin/sudo"), unix.S_IFREG, 0o4755)
	wantMode(t, filepath.Join(dir, "usr/bin/wall"), unix.S_IFREG, 0o2755)
	wantMode(t, filepath.Join(dir, "tmp"), unix.S_IFDIR, 0o1777)
	wantMode(t, filepath.Join(dir, "secret"), unix.S_IFDIR, 0o700)
	wantMode(t, filepath.Join(dir, "locked"), unix.S_IFDIR, 0o000)
	// The file inside the 0000 directory was written before it was closed.
	if err := os.Chmod(filepath.Join(dir, "locked"), 0o700); err != nil {
		t.Fatal(err)
	}
	wantContent(t, filepath.Join(dir, "locked/inside"), "x")
	if st := lstat(t, filepath.Join(dir, "etc/hostname")); int(st.Uid) != os.Getuid() {
		t.Errorf("etc/hostname belongs to uid %d, want the unpacking user %d", st.Uid, os.Getuid())
	}
}

func TestUnpackModesIgnoreUmask(t *testing.T) {
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	dir := unpackEntries(t,
		dirEntry("d/", 0o755),
		regEntry("d/f", "x", 0o644),
		regEntry("d/x", "x", 0o775),
		nodeEntry("d/fifo", tar.TypeFifo, 0, 0),
		regEntry("implicit/f", "x", 0o644),
	)
	wantMode(t, filepath.Join(dir, "d"), unix.S_IFDIR, 0o755)
	wantMode(t, filepath.Join(dir, "d/f"), unix.S_IFREG, 0o644)
	wantMode(t, filepath.Join(dir, "d/x"), unix.S_IFREG, 0o775)
	wantMode(t, filepath.Join(dir, "d/fifo"), unix.S_IFIFO, 0o644)
	wantMode(t, filepath.Join(dir, "implicit"), unix.S_IFDIR, 0o755)
}

func TestUnpackMtimes(t *testing.T) {
	dirTime := time.Date(2001, 1, 2, 3, 4, 5, 0, time.UTC)
	fileTime := time.Date(2002, 1, 2, 3, 4, 5, 0, time.UTC)
	linkTime := time.Date(2003, 1, 2, 3, 4, 5, 0, time.UTC)
	fifoTime := time.Date(2004, 1, 2, 3, 4, 5, 0, time.UTC)
	d := dirEntry("d/", 0o555)
	d.ModTime = dirTime
	f := regEntry("d/f", "data", 0o644)
	f.ModTime = fileTime
	l := symlinkEntry("d/l", "f")
	l.ModTime = linkTime
	p := nodeEntry("d/p", tar.TypeFifo, 0, 0)
	p.ModTime = fifoTime
	dir := unpackEntries(t, d, f, l, p, linkEntry("d/hard", "d/f"))
	for path, want := range map[string]time.Time{"d": dirTime, "d/f": fileTime, "d/l": linkTime, "d/p": fifoTime, "d/hard": fileTime} {
		st := lstat(t, filepath.Join(dir, path))
		if got := time.Unix(st.Mtim.Unix()); !got.Equal(want) {
			t.Errorf("%s: mtime %v, want %v", path, got, want)
		}
	}
}

func TestUnpackSymlinks(t *testing.T) {
	dir := unpackEntries(t,
		symlinkEntry("bin", "usr/bin"),
		symlinkEntry("abs", "/etc/passwd"),
		symlinkEntry("up", "../../../.."),
		symlinkEntry("dangling", "nowhere"),
	)
	for name, want := range map[string]string{"bin": "usr/bin", "abs": "/etc/passwd", "up": "../../../..", "dangling": "nowhere"} {
		got, err := os.Readlink(filepath.Join(dir, name))
		if err != nil || got != want {
			t.Errorf("readlink %s = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestUnpackHardlinks(t *testing.T) {
	dir := unpackEntries(t,
		regEntry("a/file", "shared", 0o755),
		symlinkEntry("a/sym", "/etc/passwd"),
		linkEntry("a/same-dir", "a/file"),
		linkEntry("b/other-dir", "./a/file"),
		linkEntry("to-sym", "a/sym"),
		linkEntry("a/same-dir", "a/file"), // repeated: already that file
	)
	file := lstat(t, filepath.Join(dir, "a/file"))
	if file.Nlink != 3 {
		t.Errorf("a/file has %d links, want 3", file.Nlink)
	}
	for _, name := range []string{"a/same-dir", "b/other-dir"} {
		if st := lstat(t, filepath.Join(dir, name)); st.Ino != file.Ino {
			t.Errorf("%s is inode %d, want a/file's %d", name, st.Ino, file.Ino)
		}
	}
	sym, toSym := lstat(t, filepath.Join(dir, "a/sym")), lstat(t, filepath.Join(dir, "to-sym"))
	if toSym.Mode&unix.S_IFMT != unix.S_IFLNK || toSym.Ino != sym.Ino {
		t.Errorf("to-sym: mode %o inode %d, want the symbolic link a/sym (inode %d) itself", toSym.Mode, toSym.Ino, sym.Ino)
	}
}

func TestUnpackHardlinkNeedsEarlierFile(t *testing.T) {
	for name, entries := range map[string][]tarEntry{
		"missing":   {linkEntry("h", "later"), regEntry("later", "x", 0o644)},
		"directory": {dirEntry("d/", 0o755), linkEntry("h", "d")},
		"fifo":      {nodeEntry("p", tar.TypeFifo, 0, 0), linkEntry("h", "p")},
		"root":      {linkEntry("h", "./")},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Unpack(bytes.NewReader(writeLayerTar(t, entries...)), newLayerDir(t))
			if !errors.Is(err, ErrUnsafeEntry) || !strings.Contains(err.Error(), `"h"`) {
				t.Errorf("Unpack: %v, want a refusal naming entry h", err)
			}
		})
	}
}

func TestUnpackFifo(t *testing.T) {
	e := nodeEntry("run/fifo", tar.TypeFifo, 0, 0)
	e.Mode = 0o620
	dir := unpackEntries(t, e)
	wantMode(t, filepath.Join(dir, "run/fifo"), unix.S_IFIFO, 0o620)
}

func TestUnpackXattrs(t *testing.T) {
	dir := unpackEntries(t,
		withXattrs(dirEntry("d/", 0o555), "user.dir", "D"),
		withXattrs(regEntry("d/f", "x", 0o444),
			"user.mime_type", "text/plain",
			"user.overlay.redirect", "/etc",
			"trusted.overlay.opaque", "y",
			"security.capability", "\x01\x00\x00\x02\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
			"system.posix_acl_access", "\x02\x00\x00\x00",
		),
		withXattrs(symlinkEntry("d/l", "f"), "user.link", "ignored"),
	)
	if got := xattrNames(t, filepath.Join(dir, "d/f")); !slices.Equal(got, []string{"user.mime_type"}) {
		t.Errorf("d/f xattrs %q, want only user.mime_type", got)
	}
	value := make([]byte, 64)
	n, err := unix.Getxattr(filepath.Join(dir, "d/f"), "user.mime_type", value)
	if err != nil || string(value[:n]) != "text/plain" {
		t.Errorf("d/f user.mime_type = %q, %v; want text/plain", value[:n], err)
	}
	if got := xattrNames(t, filepath.Join(dir, "d")); !slices.Equal(got, []string{"user.dir"}) {
		t.Errorf("d xattrs %q, want user.dir", got)
	}
	wantMode(t, filepath.Join(dir, "d/f"), unix.S_IFREG, 0o444)
	wantMode(t, filepath.Join(dir, "d"), unix.S_IFDIR, 0o555)
}

func TestUnpackRepeatedEntries(t *testing.T) {
	dir := unpackEntries(t,
		regEntry("f", "first", 0o644),
		regEntry("f", "second", 0o600),
		regEntry("became-dir", "x", 0o644),
		dirEntry("became-dir/", 0o750),
		dirEntry("became-file/", 0o755),
		regEntry("became-file/child", "x", 0o644),
		regEntry("became-file", "file", 0o644),
		dirEntry("kept/", 0o755),
		regEntry("kept/child", "child", 0o644),
		dirEntry("kept/", 0o711), // a directory over a directory keeps its children
		symlinkEntry("became-file-from-link", "/etc/passwd"),
		regEntry("became-file-from-link", "mine", 0o644),
		regEntry("became-link", "x", 0o644),
		symlinkEntry("became-link", "f"),
		nodeEntry("p", tar.TypeFifo, 0, 0),
		nodeEntry("p", tar.TypeFifo, 0, 0),
	)
	wantContent(t, filepath.Join(dir, "f"), "second")
	wantMode(t, filepath.Join(dir, "f"), unix.S_IFREG, 0o600)
	wantMode(t, filepath.Join(dir, "became-dir"), unix.S_IFDIR, 0o750)
	wantContent(t, filepath.Join(dir, "became-file"), "file")
	wantContent(t, filepath.Join(dir, "kept/child"), "child")
	wantMode(t, filepath.Join(dir, "kept"), unix.S_IFDIR, 0o711)
	wantMode(t, filepath.Join(dir, "became-file-from-link"), unix.S_IFREG, 0o644)
	wantContent(t, filepath.Join(dir, "became-file-from-link"), "mine")
	if got, err := os.Readlink(filepath.Join(dir, "became-link")); got != "f" {
		t.Errorf("readlink became-link = %q, %v; want f", got, err)
	}
	wantMode(t, filepath.Join(dir, "p"), unix.S_IFIFO, 0o644)
}

func TestUnpackWhiteouts(t *testing.T) {
	dir := unpackEntries(t,
		dirEntry("etc/", 0o755),
		regEntry("etc/.wh.motd", "", 0o644),
		dirEntry("var/", 0o755),
		dirEntry("var/cache/", 0o755),
		regEntry("var/cache/.wh..wh..opq", "", 0o644),
		regEntry("var/cache/new", "kept", 0o644),
		regEntry("fresh/dir/.wh..wh..opq", "", 0o644), // no entry for fresh/dir yet
		regEntry("etc/.wh..wh.plnk", "", 0o644),       // aufs metadata: skipped
		regEntry(".wh.removed-dir", "", 0o644),
		nodeEntry("explicit", tar.TypeChar, 0, 0), // an overlay whiteout already
	)
	for _, name := range []string{"etc/motd", "removed-dir", "explicit"} {
		st := lstat(t, filepath.Join(dir, name))
		if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
			t.Errorf("%s: mode %o rdev %d, want a 0/0 character device", name, st.Mode, st.Rdev)
		}
	}
	for _, name := range []string{"etc/.wh.motd", "etc/.wh..wh.plnk", "etc/plnk", "var/cache/.wh..wh..opq", ".wh.removed-dir"} {
		wantAbsent(t, filepath.Join(dir, name))
	}
	for _, name := range []string{"var/cache", "fresh/dir"} {
		value := make([]byte, 8)
		n, err := unix.Lgetxattr(filepath.Join(dir, name), overlayOpaqueXattr, value)
		if err != nil || string(value[:n]) != "y" {
			t.Errorf("%s: %s = %q, %v; want y", name, overlayOpaqueXattr, value[:n], err)
		}
	}
	if got := xattrNames(t, filepath.Join(dir, "etc")); len(got) != 0 {
		t.Errorf("etc has xattrs %q, want none (it is not opaque)", got)
	}
	wantContent(t, filepath.Join(dir, "var/cache/new"), "kept")
	wantMode(t, filepath.Join(dir, "fresh/dir"), unix.S_IFDIR, 0o755)
}

func TestUnpackWhiteoutReplacesEntry(t *testing.T) {
	dir := unpackEntries(t,
		dirEntry("gone/", 0o755),
		regEntry("gone/child", "x", 0o644),
		regEntry(".wh.gone", "", 0o644),
	)
	if st := lstat(t, filepath.Join(dir, "gone")); st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("gone: mode %o rdev %d, want a 0/0 character device", st.Mode, st.Rdev)
	}
}

func TestUnpackMalformedWhiteouts(t *testing.T) {
	for _, name := range []string{".wh.", "a/.wh..", "a/.wh..."} {
		_, err := Unpack(bytes.NewReader(writeLayerTar(t, regEntry(name, "", 0o644))), newLayerDir(t))
		if !errors.Is(err, ErrUnsafeEntry) {
			t.Errorf("Unpack of %q: %v, want a refusal", name, err)
		}
	}
}

func TestUnpackImplicitParentsAndRoot(t *testing.T) {
	root := dirEntry("./", 0o555)
	dir := unpackEntries(t, root, regEntry("./a/b/c", "deep", 0o644), regEntry("a//b/./d", "d", 0o644))
	wantContent(t, filepath.Join(dir, "a/b/c"), "deep")
	wantContent(t, filepath.Join(dir, "a/b/d"), "d")
	wantMode(t, filepath.Join(dir, "a"), unix.S_IFDIR, 0o755)
	wantMode(t, filepath.Join(dir, "a/b"), unix.S_IFDIR, 0o755)
	// The "./" entry does not change the layer directory, which the store owns.
	wantMode(t, dir, unix.S_IFDIR, 0o700)
}

func TestUnpackDanglingSymlinkParent(t *testing.T) {
	_, err := Unpack(bytes.NewReader(writeLayerTar(t, symlinkEntry("l", "nowhere"), regEntry("l/f", "x", 0o644))), newLayerDir(t))
	if err == nil || !strings.Contains(err.Error(), `"l/f"`) {
		t.Errorf("Unpack: %v, want an error naming l/f", err)
	}
}

func TestUnpackRefusesUnknownTypes(t *testing.T) {
	for _, typ := range []byte{'V', 'M', 'N', 'Z'} {
		e := tarEntry{Header: tar.Header{Typeflag: typ, Name: "odd", Mode: 0o644}}
		_, err := Unpack(bytes.NewReader(writeLayerTar(t, e)), newLayerDir(t))
		if !errors.Is(err, ErrUnsafeEntry) || !strings.Contains(err.Error(), `"odd"`) {
			t.Errorf("type %q: Unpack: %v, want a refusal naming odd", typ, err)
		}
	}
}

func TestUnpackReadsToEOF(t *testing.T) {
	stream := append(writeLayerTar(t, regEntry("f", "x", 0o644)), make([]byte, 10240)...)
	r := bytes.NewReader(stream)
	if _, err := Unpack(r, newLayerDir(t)); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 0 {
		t.Errorf("Unpack left %d of %d bytes unread", r.Len(), len(stream))
	}
}

func TestUnpackTruncated(t *testing.T) {
	stream := writeLayerTar(t, regEntry("first", "x", 0o644), regEntry("big", strings.Repeat("y", 5000), 0o644))
	_, err := Unpack(bytes.NewReader(stream[:2048]), newLayerDir(t))
	if err == nil || !strings.Contains(err.Error(), "big") {
		t.Errorf("Unpack of a truncated stream: %v, want an error naming the cut entry", err)
	}
}

func TestUnpackEmptyStream(t *testing.T) {
	dir := newLayerDir(t)
	if _, err := Unpack(bytes.NewReader(nil), dir); err != nil {
		t.Fatalf("Unpack of an empty stream: %v", err)
	}
	names, err := os.ReadDir(dir)
	if err != nil || len(names) != 0 {
		t.Errorf("layer holds %v (%v), want nothing", names, err)
	}
}

func TestCleanName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a", "a"},
		{"a/b/", "a/b"},
		{"./a", "a"},
		{"./", ""},
		{".", ""},
		{"a//b/./c/", "a/b/c"},
		{"a/.../b", "a/.../b"},
		{"..a/b..", "..a/b.."},
	} {
		got, err := cleanName(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "/", "/etc/passwd", "..", "../x", "a/../b", "a/..", "./../x"} {
		if got, err := cleanName(in); err == nil {
			t.Errorf("cleanName(%q) = %q, want an error", in, got)
		}
	}
}

func TestRemoveTree(t *testing.T) {
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	if err := os.WriteFile(outside, []byte("keep"), 0o444); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(parent, "tree")
	for _, d := range []string{"tree/ro/sub", "tree/locked/deeper", "tree/ro/locked"} {
		if err := os.MkdirAll(filepath.Join(parent, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"tree/ro/f", "tree/ro/sub/f", "tree/locked/f", "tree/locked/deeper/f", "tree/ro/locked/f"} {
		if err := os.WriteFile(filepath.Join(parent, f), []byte("x"), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"tree/ro/out": outside, "tree/ro/parent": parent} {
		if err := os.Symlink(target, filepath.Join(parent, link)); err != nil {
			t.Fatal(err)
		}
	}
	// Deepest first: a closed directory cannot be traversed to reach what is under it.
	for _, d := range []struct {
		name string
		mode os.FileMode
	}{
		{"tree/locked/deeper", 0}, {"tree/locked", 0}, {"tree/ro/locked", 0}, {"tree/ro/sub", 0o555}, {"tree/ro", 0o555}, {"tree", 0o555},
	} {
		if err := os.Chmod(filepath.Join(parent, d.name), d.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeTree(tree); err != nil {
		t.Fatalf("removeTree: %v", err)
	}
	wantAbsent(t, tree)
	wantContent(t, outside, "keep")
	wantMode(t, outside, unix.S_IFREG, 0o444)
	if err := removeTree(tree); err != nil {
		t.Errorf("removeTree of a missing path: %v", err)
	}
}

// The parent directory cached from one entry to the next must not outlive a
// replacement that changes where its name leads.
func TestUnpackParentCacheFollowsReplacement(t *testing.T) {
	dir := unpackEntries(t,
		symlinkEntry("l", "/"),
		regEntry("l/a", "via link", 0o644), // parent "l" is the layer root
		dirEntry("l/l/", 0o755),            // replaces the link "l" with a directory
		regEntry("l/b", "in new dir", 0o644),
		dirEntry("d/", 0o755),
		regEntry("d/x", "x", 0o644),
		regEntry("d", "file now", 0o644), // removes the cached directory d
		dirEntry("d/", 0o755),
		regEntry("d/y", "y", 0o644),
	)
	wantContent(t, filepath.Join(dir, "a"), "via link")
	wantContent(t, filepath.Join(dir, "l/b"), "in new dir")
	wantAbsent(t, filepath.Join(dir, "b"))
	wantContent(t, filepath.Join(dir, "d/y"), "y")
	wantAbsent(t, filepath.Join(dir, "d/x"))
}

// rawTarBlock returns a ustar header block; archive/tar's writer refuses to
// write GNU sparse records, so tests that need them write blocks themselves.
func rawTarBlock(name string, typ byte, size int) []byte {
	blk := make([]byte, 512)
	copy(blk[0:100], name)
	copy(blk[100:108], "0000644\x00")
	copy(blk[108:116], "0001750\x00")
	copy(blk[116:124], "0001750\x00")
	copy(blk[124:136], fmt.Sprintf("%011o\x00", size))
	copy(blk[136:148], fmt.Sprintf("%011o\x00", testMtime.Unix()))
	blk[156] = typ
	copy(blk[257:265], "ustar\x0000")
	copy(blk[148:156], "        ")
	sum := 0
	for _, b := range blk {
		sum += int(b)
	}
	copy(blk[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return blk
}

// padBlock pads b to a whole number of 512-byte tar blocks.
func padBlock(b []byte) []byte {
	return append(b, make([]byte, (512-len(b)%512)%512)...)
}

func TestUnpackSparseKeepsHoles(t *testing.T) {
	const hole, data = 1 << 20, 4096
	realSize := hole + data + hole
	var records string
	for _, kv := range [][2]string{
		{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"},
		{"GNU.sparse.name", "big"}, {"GNU.sparse.realsize", strconv.Itoa(realSize)},
	} {
		rec := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rec) + 1
		if len(strconv.Itoa(n)+rec) != n {
			n++
		}
		records += strconv.Itoa(n) + rec
	}
	sparseMap := padBlock([]byte(fmt.Sprintf("1\n%d\n%d\n", hole, data)))
	var stream []byte
	stream = append(stream, rawTarBlock("PaxHeaders/big", tar.TypeXHeader, len(records))...)
	stream = append(stream, padBlock([]byte(records))...)
	stream = append(stream, rawTarBlock("GNUSparseFile.0/big", tar.TypeReg, len(sparseMap)+data)...)
	stream = append(stream, sparseMap...)
	stream = append(stream, padBlock(bytes.Repeat([]byte{'x'}, data))...)
	stream = append(stream, make([]byte, 1024)...)

	dir := newLayerDir(t)
	if _, err := Unpack(bytes.NewReader(stream), dir); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "big"))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, realSize)
	copy(want[hole:], bytes.Repeat([]byte{'x'}, data))
	if !bytes.Equal(got, want) {
		t.Errorf("big: %d bytes, not %d zeros, %d x and %d zeros", len(got), hole, data, hole)
	}
	if st := lstat(t, filepath.Join(dir, "big")); st.Blocks*512 > hole/2 {
		t.Errorf("big takes %d bytes of disk for %d of data: its holes were written", st.Blocks*512, data)
	}
}

func TestEntryErrorHint(t *testing.T) {
	_, err := Unpack(bytes.NewReader(writeLayerTar(t, regEntry("/etc/passwd", "x", 0o644))), newLayerDir(t))
	var hinter interface{ Hint() string }
	if !errors.As(err, &hinter) || !strings.Contains(hinter.Hint(), "another image") {
		t.Errorf("Unpack of an absolute name: %v, want an error whose hint suggests another image", err)
	}
	for _, tc := range []struct {
		err  *EntryError
		want string
	}{
		{&EntryError{Name: "f", Op: "writing file", Err: unix.ENOSPC}, "full"},
		{&EntryError{Name: ".wh.f", Op: "creating whiteout device", Err: unix.EPERM}, "Linux 5.8"},
		{&EntryError{Name: "d/.wh..wh..opq", Op: "setting " + overlayOpaqueXattr, Err: unix.EOPNOTSUPP}, "extended attributes"},
		{&EntryError{Name: "f", Op: "creating file", Err: unix.ENOSYS}, "openat2"},
		{&EntryError{Name: "f", Op: "creating file", Err: unix.EIO}, ""},
	} {
		if got := tc.err.Hint(); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("Hint of %v = %q, want one about %q", tc.err, got, tc.want)
		}
	}
}
