package layers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// anonymous keeps tests away from the user's Docker credentials.
var anonymous = PullOptions{Keychain: authn.NewMultiKeychain()}

func TestPullThenLookupOffline(t *testing.T) {
	reg := startRegistry(t)
	img := testImage(t, "",
		gzipLayer(t, map[string]string{"base": "base\n", "over": "from base\n"}),
		gzipLayer(t, map[string]string{"top": "top\n", "over": "from top\n"}))
	ref := reg.push(t, "test/app:1", img)
	s := testStore(t, "", nil)

	if _, err := s.Lookup(ref); !errors.Is(err, ErrNotPulled) {
		t.Fatalf("Lookup before Pull: err = %v, want ErrNotPulled", err)
	}
	pulled, err := s.Pull(context.Background(), ref, anonymous)
	if err != nil {
		t.Fatal(err)
	}
	reg.Close()

	snap, err := s.Lookup(ref)
	if err != nil {
		t.Fatalf("Lookup with the registry gone: %v", err)
	}
	if snap.Digest != imageDigest(t, img) {
		t.Errorf("Digest = %s, want %s", snap.Digest, imageDigest(t, img))
	}
	if snap.Ref != ref {
		t.Errorf("Ref = %q, want %q as written", snap.Ref, ref)
	}
	if !slices.Equal(snap.Lowers, pulled.Lowers) || len(snap.Lowers) != 2 {
		t.Errorf("Lookup Lowers = %v, Pull Lowers = %v, want the same 2", snap.Lowers, pulled.Lowers)
	}
	for _, l := range snap.Lowers {
		if !filepath.IsAbs(l) || filepath.Dir(l) != s.path(layersDir) {
			t.Errorf("lower %s is not an absolute directory under %s", l, s.path(layersDir))
		}
	}
	if got := readLowerFile(t, snap, "base"); got != "base\n" {
		t.Errorf("base = %q", got)
	}
	if got := readLowerFile(t, snap, "over"); got != "from top\n" {
		t.Errorf("over = %q, want the top layer's (Lowers bottom first)", got)
	}
	want := ImageConfig{Env: []string{"PATH=/usr/bin:/bin", "IMAGE=test"}, Cmd: []string{"/bin/sh"}, WorkingDir: "/work"}
	if !slices.Equal(snap.Config.Env, want.Env) || !slices.Equal(snap.Config.Cmd, want.Cmd) || snap.Config.WorkingDir != want.WorkingDir {
		t.Errorf("Config = %+v, want %+v", snap.Config, want)
	}
	if got := dirEntries(t, s, tmpDir); len(got) != 0 {
		t.Errorf("tmp/ holds %v after a pull", got)
	}
}

func TestLookupNotPulledHasHint(t *testing.T) {
	s := testStore(t, "", nil)
	_, err := s.Lookup("debian:bookworm")
	if !errors.Is(err, ErrNotPulled) {
		t.Fatalf("err = %v, want ErrNotPulled", err)
	}
	var h interface{ Hint() string }
	if !errors.As(err, &h) || h.Hint() == "" {
		t.Errorf("ErrNotPulled from Lookup has no hint: %v", err)
	}
}

func TestTagStaysResolvedUntilPull(t *testing.T) {
	reg := startRegistry(t)
	first := testImage(t, "", gzipLayer(t, map[string]string{"v": "1\n"}))
	second := testImage(t, "", gzipLayer(t, map[string]string{"v": "2\n"}))
	ref := reg.push(t, "test/moving:latest", first)
	s := testStore(t, "", nil)
	if _, err := s.Pull(context.Background(), ref, anonymous); err != nil {
		t.Fatal(err)
	}
	reg.push(t, "test/moving:latest", second)
	before := reg.requests.Load()

	snap, err := s.Lookup(ref)
	if err != nil {
		t.Fatal(err)
	}
	if reg.requests.Load() != before {
		t.Errorf("Lookup asked the registry")
	}
	if snap.Digest != imageDigest(t, first) || readLowerFile(t, snap, "v") != "1\n" {
		t.Errorf("Lookup after the tag moved = %s, want the pulled %s", snap.Digest, imageDigest(t, first))
	}
	snap, err = s.Pull(context.Background(), ref, anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Digest != imageDigest(t, second) || readLowerFile(t, snap, "v") != "2\n" {
		t.Errorf("Pull after the tag moved = %s, want %s", snap.Digest, imageDigest(t, second))
	}
	if snap, _ = s.Lookup(ref); snap == nil || snap.Digest != imageDigest(t, second) {
		t.Errorf("Lookup after the second Pull does not give the new digest")
	}
}

func TestLayersSharedBetweenImages(t *testing.T) {
	reg := startRegistry(t)
	base := gzipLayer(t, map[string]string{"base": "shared\n"})
	refA := reg.push(t, "test/a:1", testImage(t, "", base, gzipLayer(t, map[string]string{"a": "a\n"})))
	refB := reg.push(t, "test/b:1", testImage(t, "", base, gzipLayer(t, map[string]string{"b": "b\n"})))
	var c unpackCounter
	s := testStore(t, "", &c)

	a, err := s.Pull(context.Background(), refA, anonymous)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(a.Lowers[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Pull(context.Background(), refB, anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if a.Lowers[0] != b.Lowers[0] {
		t.Errorf("base layer dirs differ: %s and %s", a.Lowers[0], b.Lowers[0])
	}
	after, err := os.Stat(b.Lowers[0])
	if err != nil {
		t.Fatal(err)
	}
	if before.Sys().(*syscall.Stat_t).Ino != after.Sys().(*syscall.Stat_t).Ino {
		t.Errorf("the shared layer was made again")
	}
	if got := c.count(); got != 3 {
		t.Errorf("unpacked %d layers for two images sharing one of their 2 each, want 3", got)
	}
	if got := dirEntries(t, s, layersDir); len(got) != 3 {
		t.Errorf("layers/ = %v, want 3 layers", got)
	}
}

func TestRepeatedLayerStackedOnce(t *testing.T) {
	reg := startRegistry(t)
	same := gzipLayer(t, map[string]string{"same": "x\n"})
	ref := reg.push(t, "test/repeat:1", testImage(t, "", same, gzipLayer(t, map[string]string{"mid": "m\n"}), same))
	var c unpackCounter
	s := testStore(t, "", &c)
	snap, err := s.Pull(context.Background(), ref, anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if c.count() != 2 {
		t.Errorf("unpacked %d layers, want 2 distinct", c.count())
	}
	dir, _ := s.layerDir(same.diffID.String())
	if len(snap.Lowers) != 2 || snap.Lowers[1] != dir {
		t.Errorf("Lowers = %v, want the middle layer then the repeated one on top (%s)", snap.Lowers, dir)
	}
}

func TestPullMultiArchPicksPlatform(t *testing.T) {
	reg := startRegistry(t)
	host := hostPlatform()
	other := v1.Platform{OS: "linux", Architecture: "s390x"}
	if host.Architecture == other.Architecture {
		other.Architecture = "ppc64le"
	}
	var idx v1.ImageIndex = empty.Index
	for _, p := range []v1.Platform{other, host, {OS: "linux", Architecture: "riscv64"}} {
		img := testImage(t, p.String(), gzipLayer(t, map[string]string{"arch": p.String()}))
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	ref := reg.pushIndex(t, "test/multi:1", idx)
	s := testStore(t, "", nil)

	snap, err := s.Pull(context.Background(), ref, anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "arch"); got != host.String() {
		t.Errorf("pulled the %s image, want the host's %s", got, host)
	}
	opt := anonymous
	opt.Platform = other.String()
	snap, err = s.Pull(context.Background(), ref, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "arch"); got != other.String() {
		t.Errorf("pulled the %s image, want %s as asked", got, other)
	}
	snap, err = s.Lookup(ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "arch"); got != host.String() {
		t.Errorf("Lookup gave the %s image, want the host's %s", got, host)
	}

	opt.Platform = "linux/mips64"
	_, err = s.Pull(context.Background(), ref, opt)
	var pe *PlatformError
	if !errors.As(err, &pe) || !slices.Contains(pe.Have, host.String()) {
		t.Errorf("pull for a missing platform: err = %v, want a PlatformError listing %s", err, host)
	}
}

func TestPullZstdLayers(t *testing.T) {
	reg := startRegistry(t)
	img := testImage(t, "",
		zstdLayer(t, map[string]string{"z": "zstd\n"}),
		gzipLayer(t, map[string]string{"g": "gzip\n"}))
	ref := reg.push(t, "test/zstd:1", img)
	s := testStore(t, "", nil)
	snap, err := s.Pull(context.Background(), ref, anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "z"); got != "zstd\n" {
		t.Errorf("z = %q", got)
	}
	if got := readLowerFile(t, snap, "g"); got != "gzip\n" {
		t.Errorf("g = %q", got)
	}
}

func TestPullCorruptedBlob(t *testing.T) {
	reg := startRegistry(t)
	good := gzipLayer(t, map[string]string{"good": "ok\n"})
	bad := gzipLayer(t, map[string]string{"bad": "content\n"})
	ref := reg.push(t, "test/corrupt:1", testImage(t, "", good, bad))
	// The registry answers with other bytes of the same length that still
	// decompress to the same tar: the gzip header's OS byte differs.
	corrupted := slices.Clone(bad.blob)
	corrupted[9] ^= 0xff
	reg.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+bad.blobDigest()) {
			w.Write(corrupted)
			return true
		}
		return false
	}
	s := testStore(t, "", nil)
	_, err := s.Pull(context.Background(), ref, anonymous)
	if err == nil {
		t.Fatal("pulling a corrupted blob succeeded")
	}
	t.Logf("pull error: %v", err)
	if !strings.Contains(err.Error(), bad.blobDigest()) {
		t.Errorf("error does not name the layer %s: %v", bad.blobDigest(), err)
	}
	if got := dirEntries(t, s, tmpDir); len(got) != 0 {
		t.Errorf("tmp/ holds %v", got)
	}
	if dir, _ := s.layerDir(bad.diffID.String()); exists(dir) {
		t.Errorf("the corrupted layer is in the store")
	}
	if _, err := s.Lookup(ref); !errors.Is(err, ErrNotPulled) {
		t.Errorf("Lookup after a failed pull: err = %v, want ErrNotPulled", err)
	}
}

func TestPullDiffIDMismatch(t *testing.T) {
	reg := startRegistry(t)
	lying := gzipLayer(t, map[string]string{"f": "content\n"})
	lying.diffID = sha256Of([]byte("something else"))
	ref := reg.push(t, "test/lying:1", testImage(t, "", lying))
	s := testStore(t, "", nil)
	_, err := s.Pull(context.Background(), ref, anonymous)
	var de *DigestError
	if !errors.As(err, &de) || de.What != "DiffID" {
		t.Fatalf("err = %v, want a DiffID DigestError", err)
	}
	t.Logf("pull error: %v", err)
	assertNoLayerLeft(t, s)
}

func TestConcurrentPullsUnpackOnce(t *testing.T) {
	reg := startRegistry(t)
	ref := reg.push(t, "test/busy:1", testImage(t, "",
		gzipLayer(t, map[string]string{"one": "1\n"}),
		gzipLayer(t, map[string]string{"two": "2\n"})))
	root := filepath.Join(t.TempDir(), "store")
	var c unpackCounter
	// Two stores on one root stand for two nook processes. The first unpack
	// waits until a pull reports waiting for a layer's lock, so the pulls
	// overlap for sure.
	waiting := make(chan struct{})
	var once sync.Once
	opt := anonymous
	opt.Progress = func(p Progress) {
		if p.Phase == PhaseWaiting {
			once.Do(func() { close(waiting) })
		}
	}
	stores := []*Store{testStore(t, root, &c), testStore(t, root, &c)}
	for _, s := range stores {
		counted := s.unpack
		s.unpack = func(r io.Reader, dir string) (Unpacked, error) {
			select {
			case <-waiting:
			case <-time.After(10 * time.Second): // fail, not hang, if pulls stop waiting for each other
				t.Error("no pull waited for the other's layer lock")
			}
			return counted(r, dir)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	snaps := make([]*Snapshot, 2)
	for i, s := range stores {
		wg.Go(func() { snaps[i], errs[i] = s.Pull(context.Background(), ref, opt) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pull %d: %v", i, err)
		}
	}
	if got := c.count(); got != 2 {
		t.Errorf("2 layers unpacked %d times by 2 concurrent pulls, want 2", got)
	}
	if !slices.Equal(snaps[0].Lowers, snaps[1].Lowers) {
		t.Errorf("the pulls disagree: %v and %v", snaps[0].Lowers, snaps[1].Lowers)
	}
}

func TestPullCancelledMidLayer(t *testing.T) {
	reg := startRegistry(t)
	big := gzipLayer(t, map[string]string{"noise": randomBytes(t, 512<<10)})
	ref := reg.push(t, "test/slow:1", testImage(t, "", big))
	// The registry sends half of the blob, then stalls until the client
	// goes away.
	reg.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+big.blobDigest()) {
			return false
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(big.blob)))
		w.Write(big.blob[:len(big.blob)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return true
	}
	s := testStore(t, "", nil)
	// Cancel once the unpack into tmp/ has begun.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	unpack := s.unpack
	s.unpack = func(r io.Reader, dir string) (Unpacked, error) {
		return unpack(&cancelAfterFirstRead{r: r, cancel: cancel}, dir)
	}
	_, err := s.Pull(ctx, ref, anonymous)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	t.Logf("pull error: %v", err)
	if got := dirEntries(t, s, tmpDir); len(got) != 0 {
		t.Errorf("tmp/ holds %v after a cancelled pull", got)
	}
	if dir, _ := s.layerDir(big.diffID.String()); exists(dir) {
		t.Errorf("the half-fetched layer is in the store")
	}
	if _, err := s.Lookup(ref); !errors.Is(err, ErrNotPulled) {
		t.Errorf("Lookup after a cancelled pull: err = %v, want ErrNotPulled", err)
	}
}

// cancelAfterFirstRead calls cancel once the first bytes have been read.
type cancelAfterFirstRead struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelAfterFirstRead) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.cancel()
	}
	return n, err
}

func TestPullCancelledWhileWaitingForLock(t *testing.T) {
	reg := startRegistry(t)
	l := gzipLayer(t, map[string]string{"f": "x\n"})
	ref := reg.push(t, "test/locked:1", testImage(t, "", l))
	s := testStore(t, "", nil)
	// Another process is making the layer.
	held, err := lockFile(context.Background(), s.path(locksDir, l.diffID.Hex+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.unlock()
	ctx, cancel := context.WithCancel(context.Background())
	opt := anonymous
	opt.Progress = func(p Progress) {
		if p.Phase == PhaseWaiting {
			cancel()
		}
	}
	if _, err := s.Pull(ctx, ref, opt); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertNoLayerLeft(t, s)
}

func TestPullRemovesStaleTmp(t *testing.T) {
	reg := startRegistry(t)
	ref := reg.push(t, "test/stale:1", testImage(t, "", gzipLayer(t, map[string]string{"f": "x\n"})))
	s := testStore(t, "", nil)
	// What a killed pull left: a half layer with a read-only directory.
	deadHex := sha256Of([]byte("dead")).Hex
	stale := s.path(tmpDir, deadHex+".123")
	if err := os.MkdirAll(filepath.Join(stale, "ro", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(stale, "ro"), 0o555); err != nil {
		t.Fatal(err)
	}
	// A layer another process is making right now.
	liveHex := sha256Of([]byte("live")).Hex
	live := s.path(tmpDir, liveHex+".456")
	if err := os.Mkdir(live, 0o700); err != nil {
		t.Fatal(err)
	}
	held, err := lockFile(context.Background(), s.path(locksDir, liveHex+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.unlock()

	if _, err := s.Pull(context.Background(), ref, anonymous); err != nil {
		t.Fatal(err)
	}
	if exists(stale) {
		t.Errorf("stale %s is still there", stale)
	}
	if !exists(live) {
		t.Errorf("%s, whose lock is held, was removed", live)
	}
}

func TestPullProgress(t *testing.T) {
	reg := startRegistry(t)
	layers := []*memLayer{gzipLayer(t, map[string]string{"a": "a\n"}), gzipLayer(t, map[string]string{"b": "b\n"})}
	ref := reg.push(t, "test/progress:1", testImage(t, "", layers[0], layers[1]))
	s := testStore(t, "", nil)
	var events []Progress
	opt := anonymous
	opt.Progress = func(p Progress) { events = append(events, p) }
	if _, err := s.Pull(context.Background(), ref, opt); err != nil {
		t.Fatal(err)
	}
	var resolved *Progress
	done := map[string]Progress{}
	for i, p := range events {
		if p.Ref != ref {
			t.Errorf("event %d has Ref %q", i, p.Ref)
		}
		switch p.Phase {
		case PhaseResolved:
			resolved = &events[i]
		case PhaseDone:
			done[p.Layer] = p
		}
	}
	if resolved == nil || resolved.Layers != 2 || resolved.Total != int64(len(layers[0].blob)+len(layers[1].blob)) {
		t.Errorf("resolved event = %+v, want 2 layers of %d bytes", resolved, len(layers[0].blob)+len(layers[1].blob))
	}
	for _, l := range layers {
		d := l.blobDigest()
		if p, ok := done[d]; !ok || p.Done != int64(len(l.blob)) || p.Total != p.Done {
			t.Errorf("done event for %s = %+v, want %d of %d bytes", d, p, len(l.blob), len(l.blob))
		}
	}

	events = nil
	if _, err := s.Pull(context.Background(), ref, opt); err != nil {
		t.Fatal(err)
	}
	cached := 0
	for _, p := range events {
		if p.Phase == PhaseCached {
			cached++
		}
		if p.Phase == PhaseFetching {
			t.Errorf("second pull fetched %s", p.Layer)
		}
	}
	if cached != 2 {
		t.Errorf("second pull reported %d cached layers, want 2", cached)
	}
}
