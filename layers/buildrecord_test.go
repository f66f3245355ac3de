package layers

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// builtEnv pulls a one-layer image from a test registry and makes one setup
// layer on it, returning the store, the image's snapshot and the
// environment's record (not yet written).
func builtEnv(t *testing.T, s *Store, text string) (*Snapshot, EnvRecord) {
	t.Helper()
	reg := startRegistry(t)
	ref := reg.push(t, "test/base:1", testImage(t, "", gzipLayer(t, map[string]string{"base": "b\n"})))
	snap, err := s.Pull(context.Background(), ref, anonymous)
	if err != nil {
		t.Fatal(err)
	}
	platform := hostPlatform().String()
	key := LayerKey(BaseKey(platform, snap.Digest), KindSetup, text, nil, "")
	if _, err := s.MakeLayer(context.Background(), key, BuiltLayer{Parent: BaseKey(platform, snap.Digest), Kind: KindSetup, Text: text},
		writeFill("step", text), nil); err != nil {
		t.Fatal(err)
	}
	var ir imageRecord
	hex, _ := digestHex(snap.Digest)
	if err := readRecord(s.path(imagesDir, hex+".json"), &ir); err != nil {
		t.Fatal(err)
	}
	return snap, EnvRecord{Key: key, Ref: ref, Digest: snap.Digest, Platform: platform, ProjectDir: "/p",
		Layers: append(slices.Clone(ir.Layers), key), Config: snap.Config}
}

func TestRecordAndLookupEnv(t *testing.T) {
	s := testStore(t, "", nil)
	snap, rec := builtEnv(t, s, "echo step")
	if _, err := s.LookupEnv(rec.Key); !errors.Is(err, ErrNotBuilt) {
		t.Fatalf("LookupEnv before RecordEnv: err = %v, want ErrNotBuilt", err)
	}
	if err := s.RecordEnv(rec); err != nil {
		t.Fatal(err)
	}
	// An old last use, to see LookupEnv note the new one.
	path := s.path(envsDir, rec.Key[7:]+".json")
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	got, err := s.LookupEnv(rec.Key)
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(snap.Lowers), s.LayerPath(rec.Key))
	if !slices.Equal(got.Lowers, want) || got.Ref != rec.Ref || got.Digest != rec.Digest {
		t.Errorf("LookupEnv = %+v, want lowers %v, ref %s, digest %s", got, want, rec.Ref, rec.Digest)
	}
	if readLowerFile(t, got, "step") != "echo step" || readLowerFile(t, got, "base") != "b\n" {
		t.Errorf("the environment's layers do not hold the image and the step")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().After(old.Add(time.Hour)) {
		t.Errorf("LookupEnv left the last use at %v", fi.ModTime())
	}

	// A layer removed since: not built.
	if err := removeTree(s.LayerPath(rec.Key)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupEnv(rec.Key); !errors.Is(err, ErrNotBuilt) {
		t.Errorf("LookupEnv with a layer gone: err = %v, want ErrNotBuilt", err)
	}
}

func TestRecordEnvRefusesBadKeys(t *testing.T) {
	s := testStore(t, "", nil)
	if err := s.RecordEnv(EnvRecord{Key: "sha256:../x"}); err == nil {
		t.Error("RecordEnv took a key that is no digest")
	}
	if err := s.RecordEnv(EnvRecord{Key: testKey("x"), Layers: []string{"../../etc"}}); err == nil {
		t.Error("RecordEnv took a layer that is no digest")
	}
}

func TestRecordProject(t *testing.T) {
	s := testStore(t, "", nil)
	if err := s.RecordProject("abc123", "/src/p", "/src/p/nook.toml"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordProject("abc123", "/src/q", "/src/q/nook.toml"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordProject("def456", "/src/r", "/src/r/nook.toml"); err != nil {
		t.Fatal(err)
	}
	ps, err := s.Projects()
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ps, func(a, b ProjectRecord) int { return strings.Compare(a.ID, b.ID) })
	want := []ProjectRecord{{"abc123", "/src/q", "/src/q/nook.toml"}, {"def456", "/src/r", "/src/r/nook.toml"}}
	if !slices.Equal(ps, want) {
		t.Errorf("Projects = %v, want %v", ps, want)
	}
	for _, bad := range []string{"", "..", "a/b"} {
		if err := s.RecordProject(bad, "/d", "/d/nook.toml"); err == nil {
			t.Errorf("RecordProject(%q) succeeded", bad)
		}
	}
}

func TestLookupByDigestAfterPullByTag(t *testing.T) {
	reg, s, _, snap := pulledApp(t)
	reg.Close() // no network from here on
	byDigest := reg.Host + "/test/app@" + snap.Digest
	got, err := s.Lookup(byDigest)
	if err != nil {
		t.Fatalf("Lookup(%s): %v", byDigest, err)
	}
	if !slices.Equal(got.Lowers, snap.Lowers) || got.Digest != snap.Digest {
		t.Errorf("Lookup by digest = %+v, want %+v", got, snap)
	}
	// Another digest is not there.
	other := reg.Host + "/test/app@" + sha256Of([]byte("other")).String()
	if _, err := s.Lookup(other); !errors.Is(err, ErrNotPulled) {
		t.Errorf("Lookup(%s): err = %v, want ErrNotPulled", other, err)
	}
}

func TestInventory(t *testing.T) {
	s := testStore(t, "", nil)
	snap, rec := builtEnv(t, s, "echo step")
	if err := s.RecordEnv(rec); err != nil {
		t.Fatal(err)
	}
	inv, err := s.Inventory()
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Images) != 1 || inv.Images[0].Digest != snap.Digest || len(inv.Images[0].Refs) != 1 || inv.Images[0].Size <= 0 {
		t.Fatalf("images = %+v, want the pulled image with its ref and a size", inv.Images)
	}
	if len(inv.Envs) != 1 || inv.Envs[0].Key != rec.Key || inv.Envs[0].Layers != 2 || !inv.Envs[0].Complete || inv.Envs[0].ProjectDir != "/p" {
		t.Fatalf("envs = %+v, want the recorded environment", inv.Envs)
	}
	// The environment's size counts the image's layer and its own; the
	// total counts the shared image layer once.
	stepSize, _ := diskUsage(s.LayerPath(rec.Key), nil)
	if inv.Envs[0].Size != inv.Images[0].Size+stepSize {
		t.Errorf("env size %d, want image %d + step %d", inv.Envs[0].Size, inv.Images[0].Size, stepSize)
	}
	if inv.Layers != 2 || inv.LayersSize != inv.Envs[0].Size {
		t.Errorf("total %d layers, %d bytes; want 2 layers, %d bytes", inv.Layers, inv.LayersSize, inv.Envs[0].Size)
	}
}

func TestDiskUsageCountsHardLinksOnce(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	one, err := diskUsage(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	two, err := diskUsage(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if one < 64<<10 || two != one {
		t.Errorf("du = %d with one file of 64 KiB, %d with a hard link to it; want ≥ 65536 and equal", one, two)
	}
}
