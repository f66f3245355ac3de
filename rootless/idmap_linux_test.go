package rootless

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// requireSubIDs returns the user's subordinate ranges, or skips when the
// user has none (outside CI; in CI the user must have them).
func requireSubIDs(t *testing.T) (IDRange, IDRange) {
	t.Helper()
	uid, gid, err := SubIDs()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the full id map needs subordinate ids in CI: %v", err)
		}
		t.Skipf("the full id map needs subordinate ids: %v", err)
	}
	return uid, gid
}

// withSubIDFiles points SubIDs at files holding subuid and subgid for the
// test's duration.
func withSubIDFiles(t *testing.T, subuid, subgid string) {
	t.Helper()
	dir := t.TempDir()
	u, g := filepath.Join(dir, "subuid"), filepath.Join(dir, "subgid")
	if err := os.WriteFile(u, []byte(subuid), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(g, []byte(subgid), 0o644); err != nil {
		t.Fatal(err)
	}
	oldU, oldG := subuidFile, subgidFile
	subuidFile, subgidFile = u, g
	t.Cleanup(func() { subuidFile, subgidFile = oldU, oldG })
}

func TestSubIDRange(t *testing.T) {
	file := filepath.Join(t.TempDir(), "subuid")
	text := "# comment\n\nalice:100000:65536\nbroken line\nbob:x:10\n1000:200000:0\n1000:300000:1000\nbob:400000:5\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		names []string
		want  IDRange
		ok    bool
	}{
		{[]string{"1001", "alice"}, IDRange{100000, 65536}, true},
		{[]string{"1000", "carol"}, IDRange{300000, 1000}, true}, // by uid; the empty range is skipped
		{[]string{"1002", "bob"}, IDRange{400000, 5}, true},      // the malformed line is skipped
		{[]string{"1003", "dave"}, IDRange{}, false},
	} {
		got, err := subIDRange(file, tc.names)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("subIDRange(%v) = %v, %v; want %v (found: %v)", tc.names, got, err, tc.want, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tc.names[1]) {
			t.Errorf("error %q does not name %s", err, tc.names[1])
		}
	}
}

func TestFullMapWithoutSubIDs(t *testing.T) {
	withSubIDFiles(t, "nook-nobody-else:100000:65536\n", "nook-nobody-else:100000:65536\n")
	_, _, err := SubIDs()
	var h interface{ Hint() string }
	if err == nil || !errors.As(err, &h) || !strings.Contains(h.Hint(), "usermod --add-subuids") {
		t.Fatalf("SubIDs with no range for the user: %v; want an error whose hint says how to add one", err)
	}
	t.Logf("error: %v; hint: %s", err, h.Hint())

	w := hostWorld(t)
	spec := w.spec(t, "echo started")
	spec.IDMap = IDMapFull
	code, out, err := run(t, spec)
	if err == nil || code != 125 || out != "" || !errors.As(err, &h) || h.Hint() == "" {
		t.Errorf("Run with the full map and no range: status %d, output %q, error %v; want 125, nothing run and a hint", code, out, err)
	}
}

func TestFullMap(t *testing.T) {
	sub, subg := requireSubIDs(t)
	forEachWorld(t, func(t *testing.T, w *world) {
		spec := w.spec(t, `cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
cd "$1" && busybox touch f && busybox chown 100:101 f && busybox stat -c 'owner %u:%g' f`)
		spec.Process.Args = append(spec.Process.Args, "sh", w.shared)
		spec.IDMap = IDMapFull
		code, out := mustRun(t, spec)
		if code != 0 {
			t.Fatalf("status %d, output:\n%s", code, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		want := []string{
			"0 " + strconv.Itoa(os.Getuid()) + " 1",
			"1 " + strconv.Itoa(sub.Start) + " " + strconv.Itoa(sub.Count),
			"0 " + strconv.Itoa(os.Getgid()) + " 1",
			"1 " + strconv.Itoa(subg.Start) + " " + strconv.Itoa(subg.Count),
			"allow", // setgroups works under the full map: apt and dpkg call it
			"owner 100:101",
		}
		if len(lines) != len(want) {
			t.Fatalf("output:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
		}
		for i, l := range lines {
			if strings.Join(strings.Fields(l), " ") != want[i] {
				t.Errorf("line %d: %q, want %q", i+1, l, want[i])
			}
		}
		fi, err := os.Stat(filepath.Join(w.shared, "f"))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != sub.Start+99 || int(st.Gid) != subg.Start+100 {
			t.Errorf("outside, the file is owned by %d:%d, want %d:%d", st.Uid, st.Gid, sub.Start+99, subg.Start+100)
		}
	})
}

func TestRemoveAllSubordinateOwned(t *testing.T) {
	requireSubIDs(t)
	w := hostWorld(t)
	// A tree a build step made: directories and files owned by other ids
	// of the range, a directory without write permission.
	spec := w.spec(t, `cd "$1" && busybox mkdir -p tree/a/b tree/ro && busybox touch tree/a/b/f tree/a/g tree/ro/h &&
busybox chmod 555 tree/ro && busybox chown -R 100:100 tree/a && busybox chown 0:0 tree/a/g`)
	spec.Process.Args = append(spec.Process.Args, "sh", w.shared)
	spec.IDMap = IDMapFull
	if code, out := mustRun(t, spec); code != 0 {
		t.Fatalf("making the tree: status %d, output %q", code, out)
	}
	tree := filepath.Join(w.shared, "tree")
	if os.Getuid() != 0 {
		// Check the case is the one RemoveAll is for.
		if err := os.Remove(filepath.Join(tree, "a", "b", "f")); !errors.Is(err, syscall.EACCES) {
			t.Fatalf("removing a file of a subordinate id's directory as yourself: %v, want EACCES", err)
		}
	}
	if err := RemoveAll(tree); err != nil {
		t.Fatalf("RemoveAll: %v", err)
	}
	if _, err := os.Lstat(tree); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", tree, err)
	}
}

func TestRemoveAllWithoutSubIDs(t *testing.T) {
	// Without a range, RemoveAll falls back to the single-id map: enough
	// for directories of yours that you may not write.
	withSubIDFiles(t, "", "")
	tree := filepath.Join(t.TempDir(), "tree")
	ro := filepath.Join(tree, "ro")
	if err := os.MkdirAll(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ro, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 {
		if err := os.RemoveAll(tree); !errors.Is(err, syscall.EACCES) {
			t.Fatalf("os.RemoveAll of a read-only directory: %v, want EACCES", err)
		}
	}
	if err := RemoveAll(tree); err != nil {
		t.Fatalf("RemoveAll: %v", err)
	}
	if _, err := os.Lstat(tree); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", tree, err)
	}
}

func TestRemoveAllMissing(t *testing.T) {
	if err := RemoveAll(filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Errorf("RemoveAll of a missing path: %v, want nil as os.RemoveAll", err)
	}
}

func TestFreeSubIDs(t *testing.T) {
	dir := t.TempDir()
	uid, gid := filepath.Join(dir, "subuid"), filepath.Join(dir, "subgid")
	if got := freeSubIDs(uid, gid); got != 100000 {
		t.Errorf("without files: %d, want 100000", got)
	}
	os.WriteFile(uid, []byte("alice:100000:65536\n# a comment\nbob:500000:65536\n"), 0o644)
	os.WriteFile(gid, []byte("alice:100000:65536\ncarol:600000:1000\n"), 0o644)
	// Past carol's 600000-600999, on a multiple of 65536.
	if got := freeSubIDs(uid, gid); got != 655360 {
		t.Errorf("freeSubIDs = %d, want 655360", got)
	}
}
