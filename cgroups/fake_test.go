package cgroups

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeRoot is a directory tree standing in for "/": /proc/self/cgroup and
// a cgroup file system under /sys/fs/cgroup, all owned by the test's user.
type fakeRoot struct {
	t    *testing.T
	root string
	// mount is the cgroup v2 mount under root: sys/fs/cgroup, or
	// sys/fs/cgroup/unified for a hybrid machine.
	mount string
}

func newFakeRoot(t *testing.T, h Hierarchy) *fakeRoot {
	t.Helper()
	f := &fakeRoot{t: t, root: t.TempDir(), mount: "sys/fs/cgroup"}
	switch h {
	case Hybrid:
		f.mount = "sys/fs/cgroup/unified"
		for _, c := range []string{"memory", "pids", "cpu"} {
			f.mkdir("sys/fs/cgroup/" + c)
		}
	case Legacy:
		for _, c := range []string{"memory", "pids", "cpu"} {
			f.mkdir("sys/fs/cgroup/" + c)
		}
		return f
	case None:
		return f
	}
	// The root cgroup holds processes (init), so it hands nothing out.
	f.cgroup("/", "cpu memory pids io", "", "1\n")
	return f
}

func (f *fakeRoot) mkdir(rel string) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Join(f.root, rel), 0o755); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeRoot) write(rel, content string) {
	f.t.Helper()
	f.mkdir(filepath.Dir(rel))
	if err := os.WriteFile(filepath.Join(f.root, rel), []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeRoot) read(rel string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, rel))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// cgroup makes the cgroup p with its cgroup.controllers,
// cgroup.subtree_control and cgroup.procs.
func (f *fakeRoot) cgroup(p, controllers, subtree, procs string) {
	f.t.Helper()
	dir := filepath.Join(f.mount, p)
	f.write(filepath.Join(dir, "cgroup.controllers"), controllers+"\n")
	f.write(filepath.Join(dir, "cgroup.subtree_control"), subtree+"\n")
	f.write(filepath.Join(dir, "cgroup.procs"), procs)
}

// self puts the process in cgroup p: /proc/self/cgroup as a unified or
// hybrid machine writes it.
func (f *fakeRoot) self(p string) {
	f.t.Helper()
	content := "0::" + p + "\n"
	if f.mount != "sys/fs/cgroup" {
		content = "12:pids:/\n4:memory:/\n1:name=systemd:" + p + "\n" + content
	}
	f.write("proc/self/cgroup", content)
}
