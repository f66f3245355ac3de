package layers

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReadLockRefusesHostileFiles(t *testing.T) {
	// A cloned project's nook.lock: a fifo, a device, or nesting that
	// takes the TOML parser minutes fails at once.
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.lock")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.lock")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(dir, "deep.lock")
	if err := os.WriteFile(deep, []byte("version = 1\nx = "+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path      string
		line, col int
		msg       string
	}{
		{fifo, 0, 0, "is a named pipe (fifo), not a regular file"},
		{zero, 0, 0, "is a character device, not a regular file"},
		{deep, 2, 36, "nested more than 32 levels deep"},
	} {
		start := time.Now()
		_, err := ReadLock(c.path)
		var le *LockError
		if !errors.As(err, &le) || le.Line != c.line || le.Col != c.col || !strings.HasPrefix(le.Msg, c.msg) {
			t.Errorf("ReadLock(%s) = %v, want a *LockError at %d:%d: %s", filepath.Base(c.path), err, c.line, c.col, c.msg)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("ReadLock(%s) took %v", filepath.Base(c.path), d)
		}
	}
}
