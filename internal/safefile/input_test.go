package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReadInput(t *testing.T) {
	dir := base(t)
	good := filepath.Join(dir, "nook.toml")
	write(t, good, 0o644)
	link := filepath.Join(dir, "link.toml")
	symlink(t, good, link)
	for _, path := range []string{good, link} {
		if b, err := ReadInput(path); err != nil || string(b) != "precious\n" {
			t.Errorf("ReadInput(%s) = %q, %v", filepath.Base(path), b, err)
		}
	}
	if _, err := ReadInput(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want fs.ErrNotExist", err)
	}
	exact := filepath.Join(dir, "exact")
	if err := os.WriteFile(exact, make([]byte, MaxInput), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadInput(exact); err != nil || len(b) != MaxInput {
		t.Errorf("a file of MaxInput bytes: %d bytes, %v", len(b), err)
	}
}

func TestReadInputRefusesWhatIsNotAFile(t *testing.T) {
	dir := base(t)
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	symlink(t, "/dev/zero", zero)
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, MaxInput+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, problem string }{
		{fifo, "is a named pipe (fifo), not a regular file"},
		{zero, "is a character device, not a regular file"},
		{dir, "is a directory, not a regular file"},
		{big, "is larger than 1 MiB"},
	} {
		start := time.Now()
		_, err := ReadInput(c.path)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Problem != c.problem || ie.Hint() == "" {
			t.Errorf("ReadInput(%s) = %v, want %q with a hint", filepath.Base(c.path), err, c.problem)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("ReadInput(%s) took %v", filepath.Base(c.path), d)
		}
	}
}

func TestReadInputReadsPastAZeroSize(t *testing.T) {
	// /proc's files are regular and report no size: the read, not the
	// size fstat reports, decides what is read.
	b, err := ReadInput("/proc/self/status")
	if err != nil || !strings.Contains(string(b), "Pid:") {
		t.Errorf("ReadInput(/proc/self/status) = %q, %v", b, err)
	}
}
