package layers

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// entriesLayer is a gzip-compressed layer of the given entries.
func entriesLayer(t *testing.T, entries ...tarEntry) *memLayer {
	t.Helper()
	tb := writeLayerTar(t, entries...)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(tb)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	l := gzipLayer(t, nil)
	l.blob, l.tar, l.diffID = buf.Bytes(), tb, sha256Of(tb)
	return l
}

func TestPullSkipsDeviceNodesWithOneNotice(t *testing.T) {
	reg := startRegistry(t)
	// As mmdebstrap writes /dev: character devices, a directory, a link.
	dev := entriesLayer(t,
		dirEntry("./dev/", 0o755),
		nodeEntry("./dev/null", tar.TypeChar, 1, 3),
		nodeEntry("./dev/zero", tar.TypeChar, 1, 5),
		nodeEntry("./dev/console", tar.TypeChar, 5, 1),
		nodeEntry("./dev/loop0", tar.TypeBlock, 7, 0),
		symlinkEntry("./dev/fd", "/proc/self/fd"),
		regEntry("./etc/os-release", "ID=debian\n", 0o644))
	more := entriesLayer(t, nodeEntry("./dev/full", tar.TypeChar, 1, 7), regEntry("./etc/motd", "hi\n", 0o644))
	ref := reg.push(t, "test/devices:1", testImage(t, "", dev, more))
	s := testStore(t, "", nil)
	var notices []string
	opt := anonymous
	opt.Notice = func(m string) { notices = append(notices, m) }
	snap, err := s.Pull(context.Background(), ref, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "skipped 5 device nodes (/dev/console, /dev/full, /dev/null, …)") ||
		!strings.Contains(notices[0], "nook's own /dev provides them at run time") {
		t.Errorf("notices = %q, want one naming 5 device nodes and nook's /dev", notices)
	}
	if got := readLowerFile(t, snap, "etc/os-release"); got != "ID=debian\n" {
		t.Errorf("os-release = %q: the rest of the layer must be there", got)
	}
	for _, l := range snap.Lowers {
		if names, _ := filepath.Glob(filepath.Join(l, "dev", "*")); len(names) > 1 {
			t.Errorf("%s/dev holds %v, want the fd link at most", l, names)
		}
	}
	if link, err := os.Readlink(filepath.Join(snap.Lowers[0], "dev", "fd")); err != nil || link != "/proc/self/fd" {
		t.Errorf("dev/fd = %q, %v", link, err)
	}

	// A second pull of an image with those layers unpacks nothing and
	// says nothing.
	notices = nil
	ref2 := reg.push(t, "test/devices:2", testImage(t, "", dev, more))
	if _, err := s.Pull(context.Background(), ref2, opt); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 0 {
		t.Errorf("notices for layers already in the store: %q", notices)
	}
}

func TestOpaqueRootHidesTheLayersBelow(t *testing.T) {
	reg := startRegistry(t)
	bottom := gzipLayer(t, map[string]string{"old/gone": "gone\n", "kept-below": "no\n"})
	reset := entriesLayer(t, regEntry("./.wh..wh..opq", "", 0o644), regEntry("new", "new\n", 0o644))
	top := gzipLayer(t, map[string]string{"top": "top\n"})
	ref := reg.push(t, "test/opaque-root:1", testImage(t, "", bottom, reset, top))
	s := testStore(t, "", nil)
	snap, err := s.Pull(context.Background(), ref, anonymous)
	if err != nil {
		t.Fatal(err)
	}
	bottomDir, _ := s.layerDir(bottom.diffID.String())
	resetDir, _ := s.layerDir(reset.diffID.String())
	topDir, _ := s.layerDir(top.diffID.String())
	if got, want := strings.Join(snap.Lowers, " "), resetDir+" "+topDir; got != want {
		t.Errorf("Lowers = %s, want %s: the layer below the opaque root is hidden", got, want)
	}
	// Looked up again from the record: the same stack.
	again, err := s.Lookup(ref)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(again.Lowers, " ") != strings.Join(snap.Lowers, " ") {
		t.Errorf("Lookup gives %v, Pull gave %v", again.Lowers, snap.Lowers)
	}
	if !exists(bottomDir) {
		t.Errorf("the hidden layer is not in the store: gc and other images may need it")
	}
}
