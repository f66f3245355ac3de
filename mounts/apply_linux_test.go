package mounts_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/mounts"
	"github.com/nookenv/nook/rootfs"
)

func TestApplyImage(t *testing.T) {
	f := newImageFixture(t)
	before := listTree(t, f.layers...)
	rep := startChild(t, "image", &childInput{
		Plan:       f.plan,
		Scratch:    f.scratch,
		HostRoot:   hostRootDev(t),
		Hostname:   testHostname,
		ResolvConf: testResolvConf,
	})
	assertChecks(t, "image", rep)

	t.Run("host: nothing is left in the scratch dir", func(t *testing.T) { assertScratchEmpty(t, f.scratch) })
	t.Run("host: the layers are unchanged", func(t *testing.T) {
		if after := listTree(t, f.layers...); after != before {
			t.Errorf("layers changed:\n--- before\n%s\n--- after\n%s", before, after)
		}
	})
	t.Run("host: a file made in the project dir is the invoking user's", func(t *testing.T) {
		assertOwnFile(t, filepath.Join(f.project, "created.txt"), "made inside\n")
	})
	t.Run("host: the volume dir was made and kept what was written", func(t *testing.T) {
		assertOwnFile(t, filepath.Join(f.volumes, "cache", "v.txt"), "kept\n")
	})
	t.Run("host: symlinks out of the image reached nothing on the host", func(t *testing.T) {
		entries, err := os.ReadDir(f.escape)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 0 {
			t.Errorf("%s, pointed at by the image's symlinks, holds %d entries, want none", f.escape, len(entries))
		}
	})
}

func TestApplyManyLayers(t *testing.T) {
	for _, classic := range []bool{false, true} {
		scenario := "layers"
		if classic {
			scenario = "layers-classic"
		}
		t.Run(scenario, func(t *testing.T) {
			const n = 200
			lowers := manyLayers(t, n)
			if total := len(strings.Join(lowers, ":")); total < 4*os.Getpagesize() {
				t.Fatalf("layer paths take %d bytes, want them well past one page", total)
			}
			dir := t.TempDir()
			scratch := mkdirs(t, dir, "scratch")
			e := &env.Env{ProjectDir: mkdirs(t, dir, "project"), Workdir: "/work", Hostname: testHostname}
			p, err := rootfs.Plan(e, &env.Role{Name: "many"}, &layers.Snapshot{Ref: "many", Lowers: lowers}, rootfs.Options{Scratch: scratch})
			if err != nil {
				t.Fatal(err)
			}
			rep := startChild(t, scenario, &childInput{Plan: p, Classic: classic, Layers: n})
			assertChecks(t, scenario, rep)
			assertScratchEmpty(t, scratch)
		})
	}
}

func TestApplyHostBase(t *testing.T) {
	dir := t.TempDir()
	scratch := mkdirs(t, dir, "scratch")
	project := mkdirs(t, dir, "project")
	writeFile(t, project, "hello.txt", "hello\n")
	e := &env.Env{ProjectDir: project, Workdir: "/work", Hostname: testHostname}
	snap := &layers.Snapshot{Ref: "host", Host: true, HostEntries: hostEntries(t)}
	p, err := rootfs.Plan(e, &env.Role{Name: "host"}, snap, rootfs.Options{Scratch: scratch, ResolvConf: []byte(testResolvConf)})
	if err != nil {
		t.Fatal(err)
	}
	rep := startChild(t, "host", &childInput{
		Plan:       p,
		Scratch:    scratch,
		HostRoot:   hostRootDev(t),
		Hostname:   testHostname,
		ResolvConf: testResolvConf,
	})
	assertChecks(t, "host", rep)
	t.Run("host: nothing is left in the scratch dir", func(t *testing.T) { assertScratchEmpty(t, scratch) })
	t.Run("host: a file made in the project dir is the invoking user's", func(t *testing.T) {
		assertOwnFile(t, filepath.Join(project, "created.txt"), "made inside\n")
	})
}

// TestApplyReadOnlySymlink: where a mount point is a symlink that cannot
// be replaced because its directory is a read-only bind (the host base's
// /etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf), the mount
// lands on the link's target, resolved inside the root.
func TestApplyReadOnlySymlink(t *testing.T) {
	dir := t.TempDir()
	scratch := mkdirs(t, dir, "scratch")
	ro := mkdirs(t, dir, "ro")
	writeFile(t, ro, "real", "original\n")
	symlink(t, "real", ro, "link")
	file := writeFile(t, dir, "file", "bound\n")
	root := filepath.Join(scratch, "root")
	p := &mounts.Plan{Root: root, Ops: []mounts.Op{
		{Kind: mounts.OpSlave, Target: "/"},
		{Kind: mounts.OpMount, Target: scratch, FSType: "tmpfs", Options: []string{"mode=0700"}},
		{Kind: mounts.OpMkdir, Target: root, Mode: 0o755},
		{Kind: mounts.OpMount, Target: root, FSType: "tmpfs", Options: []string{"mode=0755"}},
		{Kind: mounts.OpBind, Source: ro, Target: "/ro", InRoot: true, Flags: []string{"ro"}},
		{Kind: mounts.OpBind, Source: file, Target: "/ro/link", InRoot: true},
		{Kind: mounts.OpPivotRoot, Target: root},
	}}
	assertChecks(t, "ro-symlink", startChild(t, "ro-symlink", &childInput{Plan: p}))
	assertScratchEmpty(t, scratch)
	if b, err := os.ReadFile(filepath.Join(ro, "real")); err != nil || string(b) != "original\n" {
		t.Errorf("host file under the read-only bind: %q, %v; want it untouched", b, err)
	}
}

// TestApplyErrors checks a failed op comes back as a mounts.MountError that
// names what failed, with a hint where one is known, and leaves nothing on
// the host.
func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name     string
		change   func(t *testing.T, r *env.Role, s *layers.Snapshot)
		want     []string
		wantHint bool
	}{{
		name: "missing mount source",
		change: func(t *testing.T, r *env.Role, _ *layers.Snapshot) {
			r.Mounts = []env.Mount{{Source: "/nonexistent/nook-source", Target: "/data", ReadOnly: true}}
		},
		want:     []string{"open_tree /nonexistent/nook-source on /data", "type bind", "flags ro", "no such file or directory"},
		wantHint: true,
	}, {
		name: "missing layer",
		change: func(t *testing.T, _ *env.Role, s *layers.Snapshot) {
			s.Lowers = append(s.Lowers, filepath.Join(t.TempDir(), "nonexistent-layer"))
		},
		want: []string{"fsconfig lowerdir+ /", "nonexistent-layer on /", "type overlay", "userxattr", "no such file or directory"},
	}, {
		name: "file source onto a directory in the image",
		change: func(t *testing.T, r *env.Role, s *layers.Snapshot) {
			r.Mounts = []env.Mount{{Source: writeFile(t, t.TempDir(), "file", "x"), Target: "/dir"}}
			mkdirs(t, s.Lowers[0], "dir")
		},
		want: []string{"mount point", "/dir in the new root", "is a directory"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			scratch := mkdirs(t, dir, "scratch")
			layer := mkdirs(t, dir, "layer")
			e := &env.Env{ProjectDir: mkdirs(t, dir, "project"), Workdir: "/work", Hostname: testHostname}
			r := &env.Role{Name: "fail"}
			s := &layers.Snapshot{Ref: "test", Lowers: []string{layer}}
			tt.change(t, r, s)
			p, err := rootfs.Plan(e, r, s, rootfs.Options{Scratch: scratch})
			if err != nil {
				t.Fatal(err)
			}
			rep := startChild(t, "errors", &childInput{Plan: p})
			if rep.ApplyErr == "" {
				t.Fatal("Apply succeeded")
			}
			t.Logf("error: %s\nhint: %s", rep.ApplyErr, rep.ApplyHint)
			for _, w := range tt.want {
				if !strings.Contains(rep.ApplyErr, w) {
					t.Errorf("error %q lacks %q", rep.ApplyErr, w)
				}
			}
			if tt.wantHint && rep.ApplyHint == "" {
				t.Errorf("error %q comes with no hint", rep.ApplyErr)
			}
			assertScratchEmpty(t, scratch)
		})
	}
}

// assertOwnFile checks the host file p holds want and belongs to the
// user running the test.
func assertOwnFile(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s holds %q, want %q", p, b, want)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != os.Getuid() || int(st.Gid) != os.Getgid() {
		t.Errorf("%s is owned by %d:%d, want the invoking user %d:%d", p, st.Uid, st.Gid, os.Getuid(), os.Getgid())
	}
}
