package rootless

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/mounts"
	"github.com/nookenv/nook/rootfs"
)

// A world is where a test's command runs: on the host's root (an empty
// mount plan), or on a root that mounts builds from a busybox layer as
// `nook run` would. In both, the command has its own /proc and sees
// shared, a host directory of the test, at the same path.
type world struct {
	name   string
	path   string // the command's PATH
	shared string
	plan   func(t testing.TB) *mounts.Plan
}

// forEachWorld runs f as a subtest in each world.
func forEachWorld(t *testing.T, f func(t *testing.T, w *world)) {
	for _, w := range []*world{hostWorld(t), busyboxWorld(t)} {
		t.Run(w.name, func(t *testing.T) { f(t, w) })
	}
}

func hostWorld(t testing.TB) *world {
	return &world{
		name:   "host",
		path:   defaultPath,
		shared: t.TempDir(),
		plan:   func(testing.TB) *mounts.Plan { return &mounts.Plan{} },
	}
}

func busyboxWorld(t testing.TB) *world {
	w := &world{name: "busybox", path: "/bin", shared: t.TempDir()}
	w.plan = func(t testing.TB) *mounts.Plan {
		t.Helper()
		e := &env.Env{ProjectDir: t.TempDir(), Workdir: "/work", Hostname: "nook-test"}
		r := &env.Role{Name: "test", Workdir: "/work", Mounts: []env.Mount{{Source: w.shared, Target: w.shared}}}
		plan, err := rootfs.Plan(e, r, &layers.Snapshot{Lowers: []string{busyboxLayer(t)}},
			rootfs.Options{Scratch: t.TempDir(), ResolvConf: []byte("nameserver 127.0.0.1\n")})
		if err != nil {
			t.Fatalf("planning the busybox root: %v", err)
		}
		return plan
	}
	return w
}

// spec runs script with sh in w, as root in new namespaces, with a /proc
// of the new pid namespace.
func (w *world) spec(t testing.TB, script string) *Spec {
	t.Helper()
	if w.name == "host" {
		// The host's /proc shows the host's processes: cover it (in the
		// new mount namespace only) with the pid namespace's own.
		script = "busybox mount -t proc proc /proc || exit 100\n" + script
	}
	return &Spec{
		Plan:     w.plan(t),
		Hostname: "nook-test",
		Process:  Process{Args: []string{"sh", "-c", script}, Env: []string{"PATH=" + w.path}, Cwd: "/"},
	}
}

// applets are the busybox commands the test layer links.
var applets = []string{"sh", "cat", "echo", "env", "hostname", "ip", "kill", "ls", "mount", "pwd",
	"seq", "sleep", "stty", "tr", "true", "tty", "wc"}

var (
	layerOnce sync.Once
	layerDir  string
	layerErr  error
)

// busyboxLayer is a layer directory holding /bin/busybox, its applets as
// symbolic links, and /etc/not-executable. It is made once per test run
// and removed by TestMain.
func busyboxLayer(t testing.TB) string {
	t.Helper()
	layerOnce.Do(func() { layerDir, layerErr = makeBusyboxLayer() })
	if layerErr != nil {
		t.Fatalf("making the busybox layer: %v", layerErr)
	}
	return layerDir
}

func makeBusyboxLayer() (string, error) {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "nook-rootless-layer-")
	if err != nil {
		return "", err
	}
	for _, d := range []string{"bin", "etc", "root"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return dir, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), bb, 0o755); err != nil {
		return dir, err
	}
	for _, a := range applets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return dir, err
		}
	}
	return dir, os.WriteFile(filepath.Join(dir, "etc", "not-executable"), []byte("#!/bin/sh\necho no\n"), 0o644)
}
