package layers

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLockOnRemovedFileIsRetaken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	// A maker opens the lock file; gc removes it under the lock; then the
	// maker's flock succeeds, on a file no one else will ever open.
	f, err := openLockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gc, ok, err := tryLockFile(path)
	if err != nil || !ok {
		t.Fatalf("tryLockFile = %v, %v", ok, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	gc.unlock()
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if stillLinked(f, path) {
		t.Fatal("stillLinked is true for a removed lock file")
	}
	// lockFile and tryLockFile lock the file now at path, and exclude
	// each other.
	l, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.unlock()
	if _, ok, err := tryLockFile(path); err != nil || ok {
		t.Errorf("tryLockFile while lockFile holds the path: ok=%v, err=%v", ok, err)
	}
}
