package layers

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// gcFixture is a store with three projects and two images:
//   - live: nook.toml and a nook.lock pinning image A, its environment last
//     used long ago (the lock keeps it);
//   - recent: nook.toml, no lock, its environment on A used recently;
//   - gone: its nook.toml removed, its environment on A old, a volume;
//   - image B, pulled long ago, used by nothing.
type gcFixture struct {
	s                      *Store
	now                    time.Time // what gc is told the time is: 60 days on
	live, recent, gone     EnvRecord
	imageA, imageB         *Snapshot
	liveDir, goneDir       string
	goneVolume, liveVolume string
	orphanBuilt            string // a built record whose layer is absent
	staleTmp               string
}

func newGCFixture(t *testing.T) *gcFixture {
	t.Helper()
	f := &gcFixture{s: testStore(t, "", nil), now: time.Now().Add(60 * 24 * time.Hour)}
	s := f.s
	reg := startRegistry(t)
	refA := reg.push(t, "test/a:1", testImage(t, "", gzipLayer(t, map[string]string{"a": "a\n"})))
	refB := reg.push(t, "test/b:1", testImage(t, "", gzipLayer(t, map[string]string{"b": "b\n"})))
	var err error
	if f.imageA, err = s.Pull(context.Background(), refA, anonymous); err != nil {
		t.Fatal(err)
	}
	if f.imageB, err = s.Pull(context.Background(), refB, anonymous); err != nil {
		t.Fatal(err)
	}
	platform := hostPlatform().String()
	long := time.Now().Add(-90 * 24 * time.Hour)
	// Image records and refs were written now; 60 days on they are old.

	env := func(project, text string, used time.Time) EnvRecord {
		dir := filepath.Join(t.TempDir(), project)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "nook.toml")
		if err := os.WriteFile(file, []byte("image = \""+refA+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordProject(project, dir, file); err != nil {
			t.Fatal(err)
		}
		parent := BaseKey(platform, f.imageA.Digest)
		key := LayerKey(parent, KindSetup, text, nil, "")
		if _, err := s.MakeLayer(context.Background(), key, BuiltLayer{Parent: parent, Kind: KindSetup, Text: text},
			writeFill(project, text), nil); err != nil {
			t.Fatal(err)
		}
		rec := EnvRecord{Key: key, Ref: refA, Digest: f.imageA.Digest, Platform: platform, ProjectDir: dir,
			Layers: []string{diffIDOf(t, s, f.imageA), key}}
		if err := s.RecordEnv(rec); err != nil {
			t.Fatal(err)
		}
		path := s.path(envsDir, key[7:]+".json")
		if err := os.Chtimes(path, used, used); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	f.live = env("live", "make live", long)
	f.recent = env("recent", "make recent", f.now.Add(-24*time.Hour))
	f.gone = env("gone", "make gone", long)
	f.liveDir, f.goneDir = f.live.ProjectDir, f.gone.ProjectDir
	lock := &Lock{Version: 1, Platforms: map[string]*EnvLock{platform: {Image: refA, Digest: f.imageA.Digest}}}
	if err := lock.Write(filepath.Join(f.liveDir, "nook.lock")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.goneDir, "nook.toml")); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct{ project, name string }{{"gone", "data"}, {"live", "data"}} {
		p := filepath.Join(s.VolumesDir(v.project), v.name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "f"), []byte("kept?"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.goneVolume, f.liveVolume = filepath.Join(s.VolumesDir("gone"), "data"), filepath.Join(s.VolumesDir("live"), "data")

	// Leftovers: a built record whose layer never made it, and a dead
	// maker's directory.
	f.orphanBuilt = testKey("orphan")
	if err := writeRecord(s.path(builtDir, f.orphanBuilt[7:]+".json"), &BuiltLayer{Key: f.orphanBuilt}); err != nil {
		t.Fatal(err)
	}
	f.staleTmp = s.path(tmpDir, testKey("dead")[7:]+".42")
	if err := os.MkdirAll(filepath.Join(f.staleTmp, "upper"), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// diffIDOf is the DiffID of a one-layer image's layer.
func diffIDOf(t *testing.T, s *Store, snap *Snapshot) string {
	t.Helper()
	return "sha256:" + filepath.Base(snap.Lowers[0])
}

// storeFiles lists every path under the store's root.
func storeFiles(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(s.Root(), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, strings.TrimPrefix(path, s.Root()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// removedNames lists a report's removals as "kind name".
func removedNames(rep *GCReport) []string {
	var out []string
	for _, r := range rep.Removed {
		out = append(out, r.Kind+" "+r.Name)
	}
	sort.Strings(out)
	return out
}

func TestGCKeepsLockedAndRecentRemovesTheRest(t *testing.T) {
	f := newGCFixture(t)
	s := f.s
	rep, err := s.GC(GCOptions{Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 {
		t.Fatalf("gc errors: %v", rep.Errors)
	}
	t.Logf("removed: %v", removedNames(rep))

	// Kept: the lock's environment and image, the recent environment
	// (looked at without LookupEnv, which would note a use).
	for _, e := range []EnvRecord{f.live, f.recent} {
		if _, err := s.envLowers(&e); err != nil || !exists(s.path(envsDir, e.Key[7:]+".json")) {
			t.Errorf("environment of %s: %v", e.ProjectDir, err)
		}
	}
	if _, err := s.Lookup(f.imageA.Ref); err != nil {
		t.Errorf("image A, pinned by a lock: %v", err)
	}
	// Removed: the gone project's environment and its layer, image B with
	// its ref and layer, the leftovers.
	if exists(s.path(envsDir, f.gone.Key[7:]+".json")) {
		t.Error("the gone project's environment is still there")
	}
	if s.HasLayer(f.gone.Key) {
		t.Error("the gone project's layer is still there")
	}
	if _, err := s.Lookup(f.imageB.Ref); err == nil {
		t.Error("image B is still there")
	}
	if exists(f.imageB.Lowers[0]) {
		t.Error("image B's layer is still there")
	}
	if exists(s.path(builtDir, f.orphanBuilt[7:]+".json")) || exists(s.path(builtDir, f.gone.Key[7:]+".json")) {
		t.Error("built records of absent layers are still there")
	}
	if exists(f.staleTmp) {
		t.Error("the dead maker's tmp directory is still there")
	}
	if exists(s.path(locksDir, f.gone.Key[7:]+".lock")) {
		t.Error("the removed layer's lock file is still there")
	}
	// Volumes stay without --volumes.
	if !exists(f.goneVolume) || !exists(f.liveVolume) {
		t.Error("gc without --volumes removed a volume")
	}
	var freed int64
	for _, r := range rep.Removed {
		freed += r.Size
		if r.Kind == "layer" && r.Name == f.gone.Key && r.Detail != "setup: make gone" {
			t.Errorf("the gone layer's detail is %q, want its step", r.Detail)
		}
	}
	if rep.Freed != freed || rep.Freed <= 0 {
		t.Errorf("freed %d, removals add up to %d", rep.Freed, freed)
	}

	// Again: nothing more to do.
	rep, err = s.GC(GCOptions{Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Removed) != 0 {
		t.Errorf("second gc removed %v", removedNames(rep))
	}
}

func TestGCDryRunRemovesNothing(t *testing.T) {
	f := newGCFixture(t)
	before := storeFiles(t, f.s)
	dry, err := f.s.GC(GCOptions{Now: f.now, DryRun: true, Volumes: true})
	if err != nil {
		t.Fatal(err)
	}
	if after := storeFiles(t, f.s); !slices.Equal(before, after) {
		t.Errorf("dry run changed the store:\nbefore %v\nafter  %v", before, after)
	}
	if len(dry.Removed) == 0 {
		t.Fatal("dry run reports nothing to remove")
	}
	real, err := f.s.GC(GCOptions{Now: f.now, Volumes: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removedNames(dry), removedNames(real)) {
		t.Errorf("dry run said %v, gc removed %v", removedNames(dry), removedNames(real))
	}
	if dry.Freed != real.Freed {
		t.Errorf("dry run said %d bytes, gc freed %d", dry.Freed, real.Freed)
	}
}

func TestGCVolumes(t *testing.T) {
	f := newGCFixture(t)
	if _, err := f.s.GC(GCOptions{Now: f.now, Volumes: true}); err != nil {
		t.Fatal(err)
	}
	if exists(f.goneVolume) || exists(f.s.VolumesDir("gone")) {
		t.Error("the gone project's volume is still there")
	}
	if !exists(f.liveVolume) {
		t.Error("the live project's volume was removed")
	}
	ps, _ := f.s.Projects()
	if slices.ContainsFunc(ps, func(p ProjectRecord) bool { return p.ID == "gone" }) {
		t.Error("the gone project's record is still there")
	}
}

func TestGCKeepsVolumesInUse(t *testing.T) {
	f := newGCFixture(t)
	var asked []string
	inUse := func(p ProjectRecord) error {
		asked = append(asked, p.ID)
		return errors.New("its roles run: server")
	}
	rep, err := f.s.GC(GCOptions{Now: f.now, Volumes: true, VolumesInUse: inUse})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []string{"gone"}) {
		t.Errorf("VolumesInUse was asked about %v, want only the gone project", asked)
	}
	if !exists(f.goneVolume) {
		t.Error("the volume of a project in use was removed")
	}
	ps, _ := f.s.Projects()
	if !slices.ContainsFunc(ps, func(p ProjectRecord) bool { return p.ID == "gone" }) {
		t.Error("the record of a project in use was removed")
	}
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "its roles run: server") {
		t.Errorf("Errors = %q, want the refusal", rep.Errors)
	}
	for _, r := range rep.Removed {
		if r.Kind == "volume" || r.Kind == "project" {
			t.Errorf("gc reports %s %s removed", r.Kind, r.Name)
		}
	}
}

func TestGCSparesWhatIsRecent(t *testing.T) {
	f := newGCFixture(t)
	// Judged now, with the default 30 days: the images were pulled and the
	// layers made just now, so only the gone project's environment (last
	// used 90 days ago) and the dead maker's directory go. Its layer, made
	// within the hour, may belong to a build at work and stays.
	rep, err := f.s.GC(GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"environment " + f.gone.Key, "tmp " + filepath.Base(f.staleTmp)}
	if got := removedNames(rep); !slices.Equal(got, want) {
		t.Errorf("removed %v, want only %v", got, want)
	}
}

func TestGCSparesLayerBeingMade(t *testing.T) {
	f := newGCFixture(t)
	// A maker holds the gone layer's lock (it is using it right now).
	held, err := lockFile(context.Background(), f.s.path(locksDir, f.gone.Key[7:]+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.unlock()
	if _, err := f.s.GC(GCOptions{Now: f.now}); err != nil {
		t.Fatal(err)
	}
	if !f.s.HasLayer(f.gone.Key) {
		t.Error("gc removed a layer whose lock was held")
	}
}

func TestGCKeepsSharedEnvironmentOfLockedProject(t *testing.T) {
	f := newGCFixture(t)
	// The live project's environment was last recorded by another
	// project: its record names that one.
	rec := f.live
	rec.ProjectDir = f.goneDir
	path := f.s.path(envsDir, rec.Key[7:]+".json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.RecordEnv(rec); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.GC(GCOptions{Now: f.now}); err != nil {
		t.Fatal(err)
	}
	if !exists(path) || !f.s.HasLayer(rec.Key) {
		t.Error("gc removed the environment of a project whose lock pins its image")
	}
}

func TestGCKeepsRolesEnvironments(t *testing.T) {
	f := newGCFixture(t)
	s := f.s
	platform := hostPlatform().String()
	long := time.Now().Add(-80 * 24 * time.Hour) // newer than the project's, older than 30 days
	// Two roles of the live project with environments of their own: db on
	// the project's image A, cache on image B (which nothing else uses).
	roleEnv := func(role string, img *Snapshot) EnvRecord {
		parent := BaseKey(platform, img.Digest)
		key := LayerKey(parent, KindSetup, "make "+role, nil, "")
		if _, err := s.MakeLayer(context.Background(), key, BuiltLayer{Parent: parent, Kind: KindSetup, Text: "make " + role},
			writeFill(role, role), nil); err != nil {
			t.Fatal(err)
		}
		rec := EnvRecord{Key: key, Ref: img.Ref, Digest: img.Digest, Platform: platform, ProjectDir: f.liveDir, Role: role,
			Layers: []string{diffIDOf(t, s, img), key}}
		if err := s.RecordEnv(rec); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(s.path(envsDir, key[7:]+".json"), long, long); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	db, cache := roleEnv("db", f.imageA), roleEnv("cache", f.imageB)
	lock := &Lock{Version: 3, Platforms: map[string]*EnvLock{platform: {Image: f.imageA.Ref, Digest: f.imageA.Digest}},
		Roles: map[string]map[string]*EnvLock{
			"db":    {platform: {Image: f.imageA.Ref, Digest: f.imageA.Digest}},
			"cache": {platform: {Image: f.imageB.Ref, Digest: f.imageB.Digest}},
		}}
	if err := lock.Write(filepath.Join(f.liveDir, "nook.lock")); err != nil {
		t.Fatal(err)
	}
	rep, err := s.GC(GCOptions{Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	// Each entry keeps its own environment: the project's (older than
	// db's, on the same image) as well as each role's, and image B.
	for _, e := range []EnvRecord{f.live, db, cache} {
		if _, err := s.envLowers(&e); err != nil || !exists(s.path(envsDir, e.Key[7:]+".json")) {
			t.Errorf("environment of role %q: %v (removed: %v)", e.Role, err, removedNames(rep))
		}
	}
	if _, err := s.Lookup(f.imageB.Ref); err != nil {
		t.Errorf("image B, pinned by role cache's entry: %v", err)
	}
	// Without the role entries, the roles' environments go (and image B).
	lock.Roles = nil
	if err := lock.Write(filepath.Join(f.liveDir, "nook.lock")); err != nil {
		t.Fatal(err)
	}
	rep, err = s.GC(GCOptions{Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	got := removedNames(rep)
	for _, want := range []string{"environment " + db.Key, "environment " + cache.Key, "image " + f.imageB.Digest} {
		if !slices.Contains(got, want) {
			t.Errorf("gc without the roles' entries removed %v, want %s among them", got, want)
		}
	}
}
