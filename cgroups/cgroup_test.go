package cgroups

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindAndUsage(t *testing.T) {
	f := systemdUser(t)
	// The owner (pid 4242) runs in its terminal's scope; its role's
	// cgroup was made under app.slice.
	f.write("proc/4242/cgroup", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-1.scope\n")
	app := filepath.Join(f.mount, "user.slice/user-1000.slice/user@1000.service/app.slice")
	f.write(filepath.Join(app, "nook-web-4242/memory.current"), "10485760\n")
	f.write(filepath.Join(app, "nook-web-4242/memory.max"), "2147483648\n")
	f.write(filepath.Join(app, "nook-db-4242/memory.current"), "1048576\n")
	f.write(filepath.Join(app, "nook-db-4242/memory.max"), "max\n")

	dir, ok := Find(f.root, 4242, "web")
	if want := filepath.Join(f.root, app, "nook-web-4242"); !ok || dir != want {
		t.Fatalf("Find(4242, web) = %s, %v; want %s", dir, ok, want)
	}
	if cur, limit, ok := Usage(dir); !ok || cur != 10<<20 || limit != 2<<30 {
		t.Errorf("Usage(web) = %d, %d, %v", cur, limit, ok)
	}
	dir, _ = Find(f.root, 4242, "db")
	if cur, limit, ok := Usage(dir); !ok || cur != 1<<20 || limit != 0 {
		t.Errorf("Usage(db) = %d, %d, %v; want no limit for max", cur, limit, ok)
	}
	if _, ok := Find(f.root, 4242, "test"); ok {
		t.Error("Find found a role that has no cgroup")
	}
	if _, ok := Find(f.root, 999, "web"); ok {
		t.Error("Find found a cgroup for a process that is gone")
	}
	if _, _, ok := Usage(filepath.Join(f.root, "nowhere")); ok {
		t.Error("Usage of a missing cgroup is known")
	}
}

func TestName(t *testing.T) {
	if got := Name("web", 42); got != "nook-web-42" {
		t.Errorf("Name = %s", got)
	}
	if got := Name("", 42); got != "nook-exec-42" {
		t.Errorf("Name of an ad-hoc command = %s", got)
	}
}

func TestOOMKills(t *testing.T) {
	dir := t.TempDir()
	c := &Cgroup{Dir: dir}
	if n := c.OOMKills(); n != 0 {
		t.Errorf("OOMKills without memory.events = %d", n)
	}
	os.WriteFile(filepath.Join(dir, "memory.events"), []byte("low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n"), 0o644)
	if n := c.OOMKills(); n != 1 {
		t.Errorf("OOMKills = %d, want 1", n)
	}
}
