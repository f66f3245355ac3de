package watch

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestInUseCountsARealWatcher(t *testing.T) {
	// A /proc of this process alone: other processes of the user (other
	// tests running meanwhile) come and go.
	proc := t.TempDir()
	self := strconv.Itoa(os.Getpid())
	if err := os.Symlink("/proc/"+self, filepath.Join(proc, self)); err != nil {
		t.Fatal(err)
	}
	if n, w := InUse(proc); n != 0 || w != 0 {
		t.Fatalf("InUse before watching: %d instances, %d watches", n, w)
	}
	dir := t.TempDir()
	for _, d := range []string{"a", "b", "a/c"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w, err := New(Options{Root: dir, Rules: []Rule{{Name: "all", Watch: []string{"**"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n, err := CountDirs(Options{Root: dir, Rules: []Rule{{Name: "all", Watch: []string{"**"}}}})
	if err != nil || n != 4 {
		t.Errorf("CountDirs = %d, %v; want 4 (the root, a, b, a/c)", n, err)
	}
	if n, w := InUse(proc); n != 1 || w != 4 {
		t.Errorf("InUse: %d instances, %d watches while a watcher of 4 directories runs; want 1 and 4", n, w)
	}
}
