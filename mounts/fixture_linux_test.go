package mounts_test

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/mounts"
	"github.com/nookenv/nook/rootfs"
)

const (
	testHostname   = "nooktest"
	testResolvConf = "nameserver 192.0.2.53\nsearch example.test\n"
)

// imageFixture is a two-layer image made from busybox-static, a project
// directory and the host directories its role mounts.
type imageFixture struct {
	scratch string // the empty Options.Scratch
	project string // the project directory
	volumes string // Options.VolumesDir, not made yet
	escape  string // a host dir the image's symlinks point at: must stay empty
	layers  []string
	plan    *mounts.Plan
}

// Paths under the layers and host directories the checks rely on.
var (
	gitconfigContent = "[user]\n\tname = Ada\n"
	insideContent    = "mounted through a symlink\n"
)

func newImageFixture(t *testing.T) *imageFixture {
	t.Helper()
	dir := t.TempDir()
	f := &imageFixture{
		scratch: mkdirs(t, dir, "scratch"),
		project: mkdirs(t, dir, "project"),
		volumes: filepath.Join(dir, "store", "volumes", "5e1f0c2a"),
		escape:  mkdirs(t, dir, "escape"),
	}

	// The base layer: busybox, files the top layer overrides, deletes or
	// hides, and symlinks that point out of the image at f.escape.
	base := mkdirs(t, dir, "layers", "base")
	copyFile(t, "/bin/busybox", filepath.Join(mkdirs(t, base, "bin"), "busybox"), 0o755)
	symlink(t, "busybox", base, "bin/sh")
	writeFile(t, base, "lower-only.txt", "lower\n")
	writeFile(t, base, "both.txt", "base\n")
	writeFile(t, base, "gone.txt", "gone\n")
	writeFile(t, mkdirs(t, base, "opq"), "old.txt", "old\n")
	writeFile(t, mkdirs(t, base, "etc"), "os-release", "ID=nooktest\n")
	symlink(t, strings.Repeat("../", 16)+strings.TrimPrefix(f.escape, "/"), base, "deep")
	symlink(t, f.escape, base, "abs")

	// The top layer: a whiteout, an opaque dir, /work -> /etc and an
	// /etc/resolv.conf that is a symlink.
	top := mkdirs(t, dir, "layers", "top")
	writeFile(t, top, "top.txt", "top\n")
	writeFile(t, top, "both.txt", "top\n")
	if err := unix.Mknod(filepath.Join(top, "gone.txt"), unix.S_IFCHR, 0); err != nil {
		t.Fatalf("making a whiteout: %v", err)
	}
	opq := mkdirs(t, top, "opq")
	if err := unix.Setxattr(opq, "user.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatalf("marking %s opaque: %v", opq, err)
	}
	writeFile(t, opq, "new.txt", "new\n")
	symlink(t, "/etc", top, "work")
	symlink(t, "../run/resolv.conf", mkdirs(t, top, "etc"), "resolv.conf")
	f.layers = []string{base, top}

	writeFile(t, f.project, "hello.txt", "hello\n")
	ro := mkdirs(t, dir, "ro")
	writeFile(t, ro, "ro.txt", "read me\n")
	gitconfig := writeFile(t, dir, "gitconfig", gitconfigContent)
	inside := mkdirs(t, dir, "inside")
	writeFile(t, inside, "marker", insideContent)

	e := &env.Env{ProjectDir: f.project, Project: "project", ProjectID: "5e1f0c2a", Workdir: "/work", Hostname: testHostname}
	r := &env.Role{
		Name:    "check",
		Workdir: "/srv/app",
		Mounts: []env.Mount{
			{Source: ro, Target: "/data", ReadOnly: true},
			{Source: gitconfig, Target: "/root/.gitconfig", ReadOnly: true},
			{Source: inside, Target: "/deep/m"},
			{Source: inside, Target: "/abs/n"},
		},
		Volumes: []env.Volume{{Name: "cache", Target: "/vol"}},
	}
	plan, err := rootfs.Plan(e, r, &layers.Snapshot{Ref: "test", Lowers: f.layers}, rootfs.Options{
		Scratch:    f.scratch,
		VolumesDir: f.volumes,
		ResolvConf: []byte(testResolvConf),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.plan = plan
	return f
}

// manyLayers makes n layers under a long path, each holding f<i> (its
// index) and top.txt (its index, so the top layer's should win).
func manyLayers(t *testing.T, n int) []string {
	t.Helper()
	dir := mkdirs(t, t.TempDir(), strings.Repeat("a-rather-long-directory-name-", 4), strings.Repeat("and-another-one-", 4))
	lowers := make([]string, n)
	for i := range lowers {
		lowers[i] = mkdirs(t, dir, fmt.Sprintf("%03d-%s", i, strings.Repeat("0123456789abcdef", 4)))
		writeFile(t, lowers[i], fmt.Sprintf("f%03d", i), fmt.Sprint(i))
		writeFile(t, lowers[i], "top.txt", fmt.Sprint(i))
	}
	return lowers
}

// hostEntries lists the host's top-level entries as layers would.
func hostEntries(t *testing.T) []layers.HostEntry {
	t.Helper()
	entries, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	var out []layers.HostEntry
	for _, e := range entries {
		h := layers.HostEntry{Name: e.Name(), Dir: e.IsDir()}
		if e.Type()&fs.ModeSymlink != 0 {
			if h.Symlink, err = os.Readlink("/" + e.Name()); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, h)
	}
	return out
}

// hostRootDev is the device of the host's root filesystem.
func hostRootDev(t *testing.T) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	return st.Dev
}

// listTree describes every entry under the roots (path, mode, size, link
// target, opaque xattr), to compare before and after a run.
func listTree(t *testing.T, roots ...string) string {
	t.Helper()
	var lines []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			line := fmt.Sprintf("%s %v %d", p, info.Mode(), info.Size())
			if d.Type()&fs.ModeSymlink != 0 {
				target, _ := os.Readlink(p)
				line += " -> " + target
			}
			if d.IsDir() {
				buf := make([]byte, 8)
				if n, err := unix.Lgetxattr(p, "user.overlay.opaque", buf); err == nil {
					line += " opaque=" + string(buf[:n])
				}
			}
			lines = append(lines, line)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func mkdirs(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func symlink(t *testing.T, target, dir, name string) {
	t.Helper()
	if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatalf("%v (busybox-static provides /bin/busybox)", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
