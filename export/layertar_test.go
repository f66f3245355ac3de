package export

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == LayerTarName {
		LayerTarMain()
	}
	os.Exit(m.Run())
}

// readTar lists a tar stream's entries by name.
func readTar(t *testing.T, r io.Reader) (map[string]*tar.Header, []string) {
	t.Helper()
	tr := tar.NewReader(r)
	hdrs := map[string]*tar.Header{}
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs, names
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs[h.Name] = h
		names = append(names, h.Name)
	}
}

// layerDir makes a layer directory as a build step leaves it: a file, a
// hard link to it, a symbolic link, an overlay whiteout, an opaque
// directory, a user xattr, a time after the clamp.
func layerDir(t *testing.T) string {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc/opaque"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc/app.conf"), []byte("x=1\n"), 0o640))
	must(os.Link(filepath.Join(dir, "etc/app.conf"), filepath.Join(dir, "etc/app.link")))
	must(os.Symlink("app.conf", filepath.Join(dir, "etc/app.sym")))
	must(os.WriteFile(filepath.Join(dir, "etc/opaque/new"), nil, 0o644))
	if err := unix.Mknod(filepath.Join(dir, "etc/gone"), unix.S_IFCHR, 0); err != nil {
		t.Skipf("cannot make an overlay whiteout here: %v", err)
	}
	if err := unix.Setxattr(filepath.Join(dir, "etc/opaque"), "user.overlay.opaque", []byte("y"), 0); err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			t.Skipf("no user xattrs on %s", dir)
		}
		t.Fatal(err)
	}
	must(unix.Setxattr(filepath.Join(dir, "etc/app.conf"), "user.note", []byte("kept"), 0))
	future := time.Now().Add(time.Hour)
	must(os.Chtimes(filepath.Join(dir, "etc/app.conf"), future, future))
	return dir
}

func checkLayerTar(t *testing.T, r io.Reader, clamp time.Time) map[string]*tar.Header {
	t.Helper()
	h, names := readTar(t, r)
	want := []string{"etc/", "etc/app.conf", "etc/app.link", "etc/app.sym", "etc/.wh.gone", "etc/opaque/", "etc/opaque/.wh..wh..opq", "etc/opaque/new"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("entries %v, want %v", names, want)
	}
	if c := h["etc/app.conf"]; c.ModTime.Unix() != clamp.Unix() || c.Mode != 0o640 || c.PAXRecords["SCHILY.xattr.user.note"] != "kept" {
		t.Errorf("app.conf: mtime %v (clamp %v), mode %o, pax %v", c.ModTime, clamp, c.Mode, c.PAXRecords)
	}
	if l := h["etc/app.link"]; l.Typeflag != tar.TypeLink || l.Linkname != "etc/app.conf" {
		t.Errorf("app.link: %+v", l)
	}
	if s := h["etc/app.sym"]; s.Typeflag != tar.TypeSymlink || s.Linkname != "app.conf" {
		t.Errorf("app.sym: %+v", s)
	}
	if _, ok := h["etc/opaque/"].PAXRecords["SCHILY.xattr.user.overlay.opaque"]; ok {
		t.Error("overlayfs's own xattr left in the layer")
	}
	return h
}

func TestWriteLayerDirMakesOCIWhiteouts(t *testing.T) {
	dir := layerDir(t)
	clamp := time.Unix(1700000000, 0)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeLayerDir(pw, dir, clamp)) }()
	h := checkLayerTar(t, pr, clamp)
	if h["etc/app.conf"].Uid != os.Getuid() {
		t.Errorf("read as yourself, a file is yours: uid %d", h["etc/app.conf"].Uid)
	}
}

// Read through nook re-executed in a user namespace, the layer's files are
// root's, as a role sees them.
func TestLayerTarShowsOwnersAsTheRoleSees(t *testing.T) {
	dir := layerDir(t)
	clamp := time.Unix(1700000000, 0)
	lt, err := openLayerTar(dir, clamp)
	if err != nil {
		t.Fatal(err)
	}
	h := checkLayerTar(t, lt, clamp)
	if err := lt.Close(); err != nil {
		t.Fatal(err)
	}
	for n, hdr := range h {
		if hdr.Uid != 0 || hdr.Gid != 0 {
			t.Errorf("%s: owner %d:%d, want root", n, hdr.Uid, hdr.Gid)
		}
	}
}

func TestProjectLayerHoldsWhatGitTracks(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"main.go": "package main\n", ".gitignore": "bin/\n*.log\n", "bin/app": "binary", "run.log": "log",
		"sub/keep.txt": "kept", "sub/.gitignore": "!important.log\n", "sub/important.log": "kept too",
		".git/HEAD": "ref: refs/heads/main\n",
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeProjectLayer(pw, dir, "/srv/app", time.Unix(0, 0))) }()
	h, names := readTar(t, pr)
	want := "srv/ srv/app/ srv/app/.wh..wh..opq srv/app/.gitignore srv/app/main.go srv/app/sub/ srv/app/sub/.gitignore srv/app/sub/important.log srv/app/sub/keep.txt"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries\n%s\nwant\n%s", got, want)
	}
	if m := h["srv/app/main.go"]; m.Uid != 0 || m.Gid != 0 || m.ModTime.Unix() != 0 {
		t.Errorf("main.go: owner %d:%d, mtime %v: want root's, clamped", m.Uid, m.Gid, m.ModTime)
	}
}
