package layers

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestOpenStoreMakesPrivateDirs(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "nook")
	s, err := OpenStore(root)
	if err != nil {
		t.Fatal(err)
	}
	if s.Root() != root {
		t.Errorf("Root() = %s, want %s", s.Root(), root)
	}
	for _, d := range []string{"", layersDir, imagesDir, refsDir, tmpDir, locksDir} {
		fi, err := os.Stat(filepath.Join(root, d))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want a 0700 directory", filepath.Join(root, d), fi.Mode())
		}
	}
	// Opening again is fine.
	if _, err := OpenStore(root); err != nil {
		t.Errorf("reopening: %v", err)
	}
}

func TestOpenStoreRelativeRootIsAbsolute(t *testing.T) {
	t.Chdir(t.TempDir())
	s, err := OpenStore("store")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(s.Root()) {
		t.Errorf("Root() = %s, want an absolute path", s.Root())
	}
}

// pulledApp is a store that has pulled test/app:1, a one-layer image, from
// a test registry: the registry, the store, the reference and the pull.
func pulledApp(t *testing.T) (*testRegistry, *Store, string, *Snapshot) {
	t.Helper()
	reg := startRegistry(t)
	ref := reg.push(t, "test/app:1", testImage(t, "", gzipLayer(t, map[string]string{"f": "x\n"})))
	s := testStore(t, "", nil)
	snap, err := s.Pull(context.Background(), ref, anonymous)
	if err != nil {
		t.Fatal(err)
	}
	return reg, s, ref, snap
}

func TestLookupMissingLayerIsNotPulled(t *testing.T) {
	_, s, ref, snap := pulledApp(t)
	if err := removeTree(snap.Lowers[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ref); !errors.Is(err, ErrNotPulled) {
		t.Errorf("Lookup with a layer gone: err = %v, want ErrNotPulled", err)
	}
	if _, err := s.Pull(context.Background(), ref, anonymous); err != nil {
		t.Fatalf("pull to repair: %v", err)
	}
	if _, err := s.Lookup(ref); err != nil {
		t.Errorf("Lookup after repair: %v", err)
	}
}

func TestRecordsAreReplacedWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	for _, d := range []string{"sha256:1", "sha256:22"} {
		if err := writeRecord(path, &refRecord{Ref: "x", Digest: d}); err != nil {
			t.Fatal(err)
		}
	}
	var rr refRecord
	if err := readRecord(path, &rr); err != nil || rr.Digest != "sha256:22" {
		t.Errorf("record = %+v, %v", rr, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want the record alone (no temporary files)", len(entries))
	}
}

func TestDigestHexRefusesPaths(t *testing.T) {
	for _, d := range []string{"sha256:../../etc", "sha256:" + "AB" + string(make([]byte, 62)), "md5:abc", "sha256:abc"} {
		if _, err := digestHex(d); err == nil {
			t.Errorf("digestHex(%q) accepted it", d)
		}
	}
}

func TestHostSnapshot(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/bin", "etc", "proc", "sys", "dev", "tmp", "run", "lost+found", "home"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("usr/bin", filepath.Join(root, "bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "swapfile"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := testStore(t, "", nil)
	s.hostRoot = root
	snap, err := s.Lookup("host")
	if err != nil {
		t.Fatal(err)
	}
	want := []HostEntry{
		{Name: "bin", Symlink: "usr/bin"},
		{Name: "etc", Dir: true},
		{Name: "home", Dir: true},
		{Name: "swapfile"},
		{Name: "usr", Dir: true},
	}
	if !slices.Equal(snap.HostEntries, want) {
		t.Errorf("HostEntries = %+v, want %+v", snap.HostEntries, want)
	}
	if !snap.Host || snap.Ref != "host" || len(snap.Lowers) != 0 || len(snap.Config.Env) != 1 || snap.Config.Env[0] != hostPath {
		t.Errorf("host snapshot = %+v", snap)
	}
	pulled, err := s.Pull(context.Background(), "host", PullOptions{})
	if err != nil || !slices.Equal(pulled.HostEntries, want) {
		t.Errorf("Pull(host) = %+v, %v", pulled, err)
	}
	if got := dirEntries(t, s, refsDir); len(got) != 0 {
		t.Errorf("host left records: %v", got)
	}
}

func TestHostSnapshotOfRealRoot(t *testing.T) {
	snap, err := testStore(t, "", nil).Lookup("host")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range snap.HostEntries {
		names[e.Name] = true
	}
	if !names["usr"] || !names["etc"] || names["proc"] || names["tmp"] {
		t.Errorf("host entries %v: want usr and etc, not proc or tmp", snap.HostEntries)
	}
}
