package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	private = Dir{What: "the test directory", Access: Private, Elsewhere: "use another"}
	shared  = Dir{What: "the test store", Access: Shared, FollowOwnLink: true, Elsewhere: "use another"}
)

// base is a private directory of the test's, for tops to be made in.
func base(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "base")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// wantUnsafe checks that err is an *UnsafeError saying problem, with a
// hint.
func wantUnsafe(t *testing.T, err error, problem string) {
	t.Helper()
	var u *UnsafeError
	if !errors.As(err, &u) || !strings.Contains(u.Problem, problem) || u.Hint() == "" {
		t.Errorf("error %v, want an *UnsafeError saying %q, with a hint", err, problem)
	}
}

func TestMakeTopMakesAPrivateDirectory(t *testing.T) {
	dir := filepath.Join(base(t), "nook")
	for range 2 { // made, then found
		if err := private.MakeTop(dir); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Lstat(dir)
	if err != nil || !info.IsDir() || info.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, %v; want a directory of mode 0700", dir, info.Mode(), err)
	}
}

func TestMakeRefusesUnsafeDirectories(t *testing.T) {
	for _, c := range []struct {
		name    string
		plant   func(t *testing.T, path, elsewhere string)
		dir     Dir
		problem string
	}{
		{"open to all", func(t *testing.T, path, _ string) { mkdir(t, path, 0o777) }, private, "has mode 0777: other users can put files in it"},
		{"group-writable store", func(t *testing.T, path, _ string) { mkdir(t, path, 0o770) }, shared, "has mode 0770"},
		{"readable by others", func(t *testing.T, path, _ string) { mkdir(t, path, 0o755) }, private, "has mode 0755: other users can see what is in it"},
		{"a link to a directory", func(t *testing.T, path, elsewhere string) { symlink(t, elsewhere, path) }, private, "is a symbolic link (to "},
		{"a dangling link", func(t *testing.T, path, elsewhere string) {
			symlink(t, filepath.Join(elsewhere, "nowhere"), path)
		}, private, "is a symbolic link"},
		{"a file", func(t *testing.T, path, _ string) { write(t, path, 0o600) }, private, "is not a directory but a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := base(t)
			path, elsewhere := filepath.Join(b, "nook"), filepath.Join(b, "elsewhere")
			mkdir(t, elsewhere, 0o700)
			c.plant(t, path, elsewhere)
			wantUnsafe(t, c.dir.MakeTop(path), c.problem)
			wantUnsafe(t, c.dir.Make(path), c.problem)
			if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
				t.Errorf("something was made where the link points: %v", entries)
			}
		})
	}
}

func TestSharedAllowsReadingAndAnOwnLink(t *testing.T) {
	b := base(t)
	disk := filepath.Join(b, "disk")
	mkdir(t, disk, 0o755)
	link := filepath.Join(b, "store")
	symlink(t, disk, link)
	if err := shared.MakeTop(link); err != nil {
		t.Errorf("a store of mode 0755 reached through the user's own link: %v", err)
	}
	// Below the top, a link is a link.
	wantUnsafe(t, shared.Make(filepath.Join(b, "store")), "is a symbolic link")
	// What the link points to is checked.
	if err := os.Chmod(disk, 0o777); err != nil {
		t.Fatal(err)
	}
	wantUnsafe(t, shared.MakeTop(link), "has mode 0777")
}

func TestMakeTopChecksItsParent(t *testing.T) {
	b := base(t)
	// Writable by everyone and not sticky: anyone could swap the top.
	open := filepath.Join(b, "open")
	mkdir(t, open, 0o777)
	wantUnsafe(t, private.MakeTop(filepath.Join(open, "nook")), "is writable by everyone and not sticky")
	if _, err := os.Lstat(filepath.Join(open, "nook")); !os.IsNotExist(err) {
		t.Errorf("the top was made in an unsafe parent: %v", err)
	}
	// Sticky, as /tmp: fine.
	sticky := filepath.Join(b, "sticky")
	mkdir(t, sticky, 0o777|os.ModeSticky)
	if err := private.MakeTop(filepath.Join(sticky, "nook")); err != nil {
		t.Errorf("in a sticky directory: %v", err)
	}
	// A group-writable one of the user's own (umask 002): fine.
	group := filepath.Join(b, "group")
	mkdir(t, group, 0o775)
	if err := private.MakeTop(filepath.Join(group, "nook")); err != nil {
		t.Errorf("in a group-writable directory of the user's: %v", err)
	}
	// Missing: not made, and said so.
	wantUnsafe(t, private.MakeTop(filepath.Join(b, "missing", "nook")), "does not exist")
}

func mkdir(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("precious\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
