package cgroups

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCreateWritesLimits(t *testing.T) {
	f := systemdUser(t)
	h := Detect(f.root, os.Getuid())
	c, err := h.Create(Name("web", 4242), Limits{Memory: 64 << 20, CPUs: 0.5, Pids: 32})
	if err != nil {
		t.Fatal(err)
	}
	defer c.File().Close()
	app := filepath.Join(f.mount, "user.slice/user-1000.slice/user@1000.service/app.slice")
	if want := h.Base + "/nook-web-4242"; c.Path != want {
		t.Errorf("Path = %s, want %s", c.Path, want)
	}
	for file, want := range map[string]string{
		"nook-web-4242/memory.max":      "67108864",
		"nook-web-4242/memory.swap.max": "67108864",
		"nook-web-4242/cpu.max":         "50000 100000",
		"nook-web-4242/pids.max":        "32",
		// cpu was not handed out yet: Create enabled it.
		"cgroup.subtree_control": "+cpu",
	} {
		if got := f.read(filepath.Join(app, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
}

func TestCreateWithoutBase(t *testing.T) {
	f := newFakeRoot(t, Hybrid)
	f.self("/")
	h := Detect(f.root, os.Getuid())
	_, err := h.Create("nook-web-1", Limits{Memory: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "applying limits (memory = 1MiB): the controllers are on cgroup v1 hierarchies") {
		t.Errorf("Create on a hybrid machine: %v", err)
	}
}

func TestCreateSweepsStaleCgroups(t *testing.T) {
	f := systemdUser(t)
	app := filepath.Join(f.root, f.mount, "user.slice/user-1000.slice/user@1000.service/app.slice")
	// A run killed with -9 left its (empty) cgroup; pid 2^22+1 is above
	// any pid the kernel hands out, so it is surely gone. A live
	// process's cgroup stays.
	for _, name := range []string{"nook-web-4194305", "nook-web-" + strconv.Itoa(os.Getpid()), "other-4194305"} {
		if err := os.Mkdir(filepath.Join(app, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h := Detect(f.root, os.Getuid())
	c, err := h.Create("nook-db-1", Limits{Pids: 10})
	if err != nil {
		t.Fatal(err)
	}
	c.File().Close()
	for name, want := range map[string]bool{"nook-web-4194305": false, "nook-web-" + strconv.Itoa(os.Getpid()): true, "other-4194305": true} {
		if exists(filepath.Join(app, name)) != want {
			t.Errorf("%s exists: %v, want %v", name, !want, want)
		}
	}
}
