package layers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary play a second nook process: with
// NOOK_LAYERS_CHILD set it runs childMakeLayer instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("NOOK_LAYERS_CHILD") != "" {
		os.Exit(childMakeLayer())
	}
	os.Exit(m.Run())
}

// childMakeLayer makes the layer $NOOK_LAYERS_KEY in the store
// $NOOK_LAYERS_ROOT as another process would. It tells its parent on stdout
// what it does ("waiting" for the lock, "filling" the layer, then "made=…"),
// and its fill returns only when stdin ends, so the parent decides when the
// fill finishes, or kills it midway.
func childMakeLayer() int {
	s, err := OpenStore(os.Getenv("NOOK_LAYERS_ROOT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	waitingForLayer = func(string) { fmt.Println("waiting") }
	made, err := s.MakeLayer(context.Background(), os.Getenv("NOOK_LAYERS_KEY"), BuiltLayer{Kind: KindSetup, Text: "child"},
		func(upper, _ string) error {
			if err := os.WriteFile(filepath.Join(upper, "by"), []byte("child"), 0o644); err != nil {
				return err
			}
			fmt.Println("filling")
			_, err := io.Copy(io.Discard, os.Stdin)
			return err
		}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("made=%v\n", made)
	return 0
}

// child is a running childMakeLayer.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
}

// startChild starts a process making key in the store at root.
func startChild(t *testing.T, root, key string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "NOOK_LAYERS_CHILD=1", "NOOK_LAYERS_ROOT="+root, "NOOK_LAYERS_KEY="+key)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &child{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
}

// expect reads the child's next line, which must be want.
func (c *child) expect(t *testing.T, want string) {
	t.Helper()
	if !c.lines.Scan() {
		t.Fatalf("child ended before saying %q: %v", want, c.lines.Err())
	}
	if got := c.lines.Text(); got != want {
		t.Fatalf("child said %q, want %q", got, want)
	}
}

// testKey is a built layer key for tests.
func testKey(text string) string {
	return LayerKey(BaseKey("linux/amd64", sha256Of([]byte("image")).String()), KindSetup, text, nil, "")
}

// writeFill is a fill that writes one file into the layer.
func writeFill(name, content string) func(upper, work string) error {
	return func(upper, _ string) error {
		return os.WriteFile(filepath.Join(upper, name), []byte(content), 0o644)
	}
}

func TestLayerKey(t *testing.T) {
	base := BaseKey("linux/amd64", "sha256:"+sha256Of([]byte("m")).Hex)
	k := LayerKey(base, KindSetup, "make", []string{"A=1", "B=2"}, "")
	if _, err := digestHex(k); err != nil {
		t.Fatalf("LayerKey = %q: %v", k, err)
	}
	if again := LayerKey(base, KindSetup, "make", []string{"B=2", "A=1"}, ""); again != k {
		t.Errorf("the env's order changed the key: %s, then %s", k, again)
	}
	differ := map[string]string{
		"parent":          LayerKey(base+"x", KindSetup, "make", []string{"A=1", "B=2"}, ""),
		"kind":            LayerKey(base, KindPackages, "make", []string{"A=1", "B=2"}, ""),
		"text":            LayerKey(base, KindSetup, "make all", []string{"A=1", "B=2"}, ""),
		"env":             LayerKey(base, KindSetup, "make", []string{"A=1", "B=3"}, ""),
		"idmap":           LayerKey(base, KindSetup, "make", []string{"A=1", "B=2"}, "full"),
		"env as idmap":    LayerKey(base, KindSetup, "make", []string{"A=1", "B=2", "full"}, ""),
		"text into kind":  LayerKey(base, KindSetup+"\x00make", "", []string{"A=1", "B=2"}, ""),
		"env entry split": LayerKey(base, KindSetup, "make", []string{"A=1\x00B=2"}, ""),
	}
	seen := map[string]string{k: "the original"}
	for what, got := range differ {
		if prev, ok := seen[got]; ok {
			t.Errorf("changing the %s gives the same key as %s", what, prev)
		}
		seen[got] = what
	}
}

func TestLayerPath(t *testing.T) {
	s := testStore(t, "", nil)
	k := testKey("x")
	if got, want := s.LayerPath(k), filepath.Join(s.Root(), "layers", k[len("sha256:"):]); got != want {
		t.Errorf("LayerPath = %s, want %s", got, want)
	}
	for _, bad := range []string{"", "sha256:../../etc", "md5:abc", "sha256:" + k[7:39]} {
		if got := s.LayerPath(bad); got != "" {
			t.Errorf("LayerPath(%q) = %q, want \"\"", bad, got)
		}
		if s.HasLayer(bad) {
			t.Errorf("HasLayer(%q) = true", bad)
		}
	}
}

func TestMakeLayer(t *testing.T) {
	s := testStore(t, "", nil)
	key := testKey("echo hi > /f")
	if s.HasLayer(key) {
		t.Fatal("HasLayer before MakeLayer")
	}
	var gotUpper, gotWork string
	made, err := s.MakeLayer(context.Background(), key, BuiltLayer{Parent: "p", Kind: KindSetup, Text: "echo hi > /f"},
		func(upper, work string) error {
			gotUpper, gotWork = upper, work
			for _, d := range []string{upper, work} {
				if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
					t.Errorf("fill's %s is not a directory: %v", d, err)
				}
			}
			return os.WriteFile(filepath.Join(upper, "f"), []byte("hi\n"), 0o644)
		}, nil)
	if err != nil || !made {
		t.Fatalf("MakeLayer = %v, %v; want true, nil", made, err)
	}
	if filepath.Dir(filepath.Dir(gotUpper)) != s.path(tmpDir) || filepath.Dir(gotWork) != filepath.Dir(gotUpper) {
		t.Errorf("fill ran in %s and %s, want upper and work of one directory under %s", gotUpper, gotWork, s.path(tmpDir))
	}
	if !s.HasLayer(key) {
		t.Fatal("HasLayer after MakeLayer = false")
	}
	if b, err := os.ReadFile(filepath.Join(s.LayerPath(key), "f")); err != nil || string(b) != "hi\n" {
		t.Errorf("layer's f = %q, %v; want what fill wrote", b, err)
	}
	if got := dirEntries(t, s, tmpDir); len(got) != 0 {
		t.Errorf("tmp/ holds %v after MakeLayer", got)
	}
	rec, err := s.BuiltLayerRecord(key)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Key != key || rec.Parent != "p" || rec.Kind != KindSetup || rec.Text != "echo hi > /f" || rec.Created.IsZero() || rec.Size <= 0 {
		t.Errorf("record = %+v", rec)
	}
	// Again: already there, fill not called.
	made, err = s.MakeLayer(context.Background(), key, BuiltLayer{}, func(string, string) error {
		t.Error("fill called for a layer in the store")
		return nil
	}, nil)
	if err != nil || made {
		t.Errorf("second MakeLayer = %v, %v; want false, nil", made, err)
	}
}

func TestMakeLayerConcurrentGoroutines(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	key := testKey("concurrent")
	// Two stores on one root stand for two nook processes. The first fill
	// waits until the other MakeLayer waits for the lock, so they overlap
	// for sure.
	waiting := make(chan struct{})
	var once sync.Once
	waitingForLayer = func(string) { once.Do(func() { close(waiting) }) }
	t.Cleanup(func() { waitingForLayer = nil })
	var fills atomic.Int32
	fill := func(upper, work string) error {
		fills.Add(1)
		select {
		case <-waiting:
		case <-time.After(10 * time.Second): // fail, not hang, if one stops waiting for the other
			t.Error("no MakeLayer waited for the other's lock")
		}
		return writeFill("f", "x")(upper, work)
	}
	var wg sync.WaitGroup
	made := make([]bool, 2)
	errs := make([]error, 2)
	for i := range 2 {
		s := testStore(t, root, nil)
		wg.Go(func() {
			made[i], errs[i] = s.MakeLayer(context.Background(), key, BuiltLayer{Kind: KindSetup}, fill, nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("MakeLayer %d: %v", i, err)
		}
	}
	if fills.Load() != 1 || made[0] == made[1] {
		t.Errorf("fills = %d, made = %v; want one fill and one made", fills.Load(), made)
	}
}

func TestMakeLayerConcurrentProcesses(t *testing.T) {
	s := testStore(t, "", nil)
	key := testKey("two processes")
	var c *child
	made, err := s.MakeLayer(context.Background(), key, BuiltLayer{Kind: KindSetup, Text: "parent"},
		func(upper, work string) error {
			// Another nook starts making the same layer and must wait.
			c = startChild(t, s.Root(), key)
			c.expect(t, "waiting")
			c.stdin.Close()
			return writeFill("by", "parent")(upper, work)
		}, nil)
	if err != nil || !made {
		t.Fatalf("MakeLayer = %v, %v", made, err)
	}
	c.expect(t, "made=false")
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.LayerPath(key), "by")); string(b) != "parent" {
		t.Errorf("layer made by %q, want the parent", b)
	}
}

func TestMakeLayerFillFails(t *testing.T) {
	s := testStore(t, "", nil)
	key := testKey("false")
	boom := errors.New("step exited with status 1")
	var removed []string
	made, err := s.MakeLayer(context.Background(), key, BuiltLayer{Kind: KindSetup}, func(upper, work string) error {
		// A half-made tree, with a directory that forbids removal.
		if err := os.MkdirAll(filepath.Join(upper, "ro", "sub"), 0o755); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(upper, "ro"), 0o555); err != nil {
			return err
		}
		return boom
	}, func(p string) error {
		removed = append(removed, p)
		return removeTree(p)
	})
	if made || !errors.Is(err, boom) {
		t.Fatalf("MakeLayer = %v, %v; want false and the fill's error", made, err)
	}
	t.Logf("error: %v", err)
	if len(removed) != 1 || filepath.Dir(removed[0]) != s.path(tmpDir) {
		t.Errorf("remove called with %v, want the one temporary directory", removed)
	}
	assertNoBuild(t, s, key)
}

func TestMakeLayerCancelled(t *testing.T) {
	s := testStore(t, "", nil)
	key := testKey("sleep")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The step is killed by the cancel and its fill reports no error.
	made, err := s.MakeLayer(ctx, key, BuiltLayer{}, func(upper, work string) error {
		cancel()
		return writeFill("half", "x")(upper, work)
	}, nil)
	if made || !errors.Is(err, context.Canceled) {
		t.Fatalf("MakeLayer = %v, %v; want false, context.Canceled", made, err)
	}
	assertNoBuild(t, s, key)
}

func TestMakeLayerCancelledWhileWaiting(t *testing.T) {
	s := testStore(t, "", nil)
	key := testKey("locked")
	held, err := lockFile(context.Background(), s.path(locksDir, key[7:]+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.unlock()
	ctx, cancel := context.WithCancel(context.Background())
	waitingForLayer = func(string) { cancel() }
	t.Cleanup(func() { waitingForLayer = nil })
	made, err := s.MakeLayer(ctx, key, BuiltLayer{}, func(string, string) error {
		t.Error("fill called without the lock")
		return nil
	}, nil)
	if made || !errors.Is(err, context.Canceled) {
		t.Fatalf("MakeLayer = %v, %v; want false, context.Canceled", made, err)
	}
	assertNoBuild(t, s, key)
}

func TestMakeLayerAfterKill(t *testing.T) {
	s := testStore(t, "", nil)
	key := testKey("killed")
	c := startChild(t, s.Root(), key)
	c.expect(t, "filling")
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	if got := dirEntries(t, s, tmpDir); len(got) != 1 {
		t.Fatalf("tmp/ holds %v after kill -9 mid-fill, want the killed maker's directory", got)
	}
	if s.HasLayer(key) {
		t.Fatal("a layer killed mid-fill is in the store")
	}
	made, err := s.MakeLayer(context.Background(), key, BuiltLayer{}, writeFill("by", "parent"), nil)
	if err != nil || !made {
		t.Fatalf("MakeLayer after the kill = %v, %v", made, err)
	}
	if got := dirEntries(t, s, tmpDir); len(got) != 0 {
		t.Errorf("tmp/ holds %v, want the dead maker's directory removed", got)
	}
	if b, err := os.ReadFile(filepath.Join(s.LayerPath(key), "by")); string(b) != "parent" {
		t.Errorf("layer's file = %q, %v; want the second maker's", b, err)
	}
}

// assertNoBuild fails if anything of the build of key is left in the store.
func assertNoBuild(t *testing.T, s *Store, key string) {
	t.Helper()
	if s.HasLayer(key) {
		t.Errorf("layer %s is in the store", key)
	}
	if got := dirEntries(t, s, tmpDir); len(got) != 0 {
		t.Errorf("tmp/ holds %v", got)
	}
	if _, err := s.BuiltLayerRecord(key); err == nil {
		t.Errorf("built record of %s is in the store", key)
	}
}
