package safefile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// victim is a file of the user's that a planted link or hard link points
// at; unchanged reports whether it still holds what it held.
func victim(t *testing.T) (path string, unchanged func() bool) {
	path = filepath.Join(base(t), "bashrc")
	write(t, path, 0o644)
	return path, func() bool {
		b, err := os.ReadFile(path)
		return err == nil && string(b) == "precious\n"
	}
}

func TestReplaceWritesNothingThroughWhatWasThere(t *testing.T) {
	for _, c := range []struct {
		name  string
		plant func(t *testing.T, victim, path string)
	}{
		{"a link", func(t *testing.T, v, path string) { symlink(t, v, path) }},
		{"a hard link", func(t *testing.T, v, path string) {
			if err := os.Link(v, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"a file open to all", func(t *testing.T, _, path string) { write(t, path, 0o666) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, unchanged := victim(t)
			path := filepath.Join(base(t), "role.log")
			c.plant(t, v, path)
			// Someone holds the old file open.
			held, err := os.OpenFile(path, os.O_RDONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			f, err := Replace("the log", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("said something\n"); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if !unchanged() {
				t.Error("the victim changed")
			}
			info, err := os.Lstat(path)
			if err != nil || !info.Mode().IsRegular() || info.Mode().Perm() != 0o600 {
				t.Errorf("%s is %v (%v), want a regular file of mode 0600", path, info.Mode(), err)
			}
			if old, _ := io.ReadAll(held); string(old) == "said something\n" {
				t.Error("the old file's holder reads the new log")
			}
		})
	}
}

func TestOpenAppendAndOpenLockRefuseALink(t *testing.T) {
	for name, open := range map[string]func(what, path string) (*os.File, error){"OpenAppend": OpenAppend, "OpenLock": OpenLock} {
		t.Run(name, func(t *testing.T) {
			v, unchanged := victim(t)
			path := filepath.Join(base(t), "pod.log")
			symlink(t, v, path)
			f, err := open("the pod's log", path)
			if err == nil {
				f.Close()
			}
			wantUnsafe(t, err, "is a symbolic link")
			if !unchanged() {
				t.Error("the victim changed")
			}
		})
	}
}

func TestWriteFileReplacesALink(t *testing.T) {
	v, unchanged := victim(t)
	dir := base(t)
	path := filepath.Join(dir, "role.json")
	symlink(t, v, path)
	if err := WriteFile(path, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	if !unchanged() {
		t.Error("the victim changed")
	}
	if b, err := ReadOwned(path); err != nil || string(b) != "{}\n" {
		t.Errorf("ReadOwned = %q, %v", b, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%s holds %d files, want the record alone", dir, len(entries))
	}
}

func TestReadOwnedTrustsOnlyRegularFiles(t *testing.T) {
	dir := base(t)
	record := filepath.Join(dir, "record.json")
	write(t, record, 0o600)
	if b, err := ReadOwned(record); err != nil || string(b) != "precious\n" {
		t.Fatalf("ReadOwned of a record = %q, %v", b, err)
	}
	link := filepath.Join(dir, "link.json")
	symlink(t, record, link)
	fifo := filepath.Join(dir, "fifo.json")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.json")
	mkdir(t, sub, 0o700)
	for _, path := range []string{link, fifo, sub} {
		start := time.Now()
		if _, err := ReadOwned(path); !errors.Is(err, ErrUntrusted) {
			t.Errorf("ReadOwned(%s) = %v, want ErrUntrusted", filepath.Base(path), err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("ReadOwned(%s) took %v", filepath.Base(path), d)
		}
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, make([]byte, MaxRecord+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadOwned(big); !errors.Is(err, ErrUntrusted) {
		t.Errorf("ReadOwned of %d bytes = %v, want ErrUntrusted", MaxRecord+1, err)
	}
	if _, err := ReadOwned(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadOwned of a missing file = %v, want ErrNotExist", err)
	}
}
