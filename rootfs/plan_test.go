package rootfs

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/mounts"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the plans computed now")

// testEnv is a project at /home/ada/proj as env.Resolve would give it.
func testEnv() *env.Env {
	return &env.Env{
		File:       "/home/ada/proj/nook.toml",
		ProjectDir: "/home/ada/proj",
		Project:    "proj",
		ProjectID:  "5e1f0c2a",
		Image:      "docker.io/library/golang:1.24-bookworm",
		Workdir:    "/work",
		Hostname:   "proj",
		Roles:      map[string]*env.Role{"test": {Name: "test"}, "db": {Name: "db"}, "web": {Name: "web"}},
	}
}

func testOptions() Options {
	return Options{
		Scratch:    "/home/ada/.local/share/nook/mnt",
		VolumesDir: "/home/ada/.local/share/nook/volumes/5e1f0c2a",
		ResolvConf: []byte("nameserver 192.0.2.53\n"),
	}
}

func registrySnapshot(n int) *layers.Snapshot {
	s := &layers.Snapshot{Ref: "docker.io/library/golang:1.24-bookworm", Digest: "sha256:" + strings.Repeat("ab", 32)}
	for i := range n {
		s.Lowers = append(s.Lowers, fmt.Sprintf("/home/ada/.local/share/nook/layers/sha256/%064x", i+1))
	}
	return s
}

func hostSnapshot() *layers.Snapshot {
	return &layers.Snapshot{Ref: "host", Host: true, HostEntries: []layers.HostEntry{
		{Name: "bin", Symlink: "usr/bin"},
		{Name: "dev", Dir: true},
		{Name: "etc", Dir: true},
		{Name: "home", Dir: true},
		{Name: "lib", Symlink: "usr/lib"},
		{Name: "lib64", Symlink: "usr/lib64"},
		{Name: "proc", Dir: true},
		{Name: "root", Dir: true},
		{Name: "swap.img"},
		{Name: "sys", Dir: true},
		{Name: "tmp", Dir: true},
		{Name: "usr", Dir: true},
		{Name: "var", Dir: true},
	}}
}

func TestPlanRoleGolden(t *testing.T) {
	tests := []struct {
		name string
		role *env.Role
		snap *layers.Snapshot
		opts func(*Options)
	}{{
		// Mounts declared child first: the plan mounts /data before /data/fixtures.
		name: "registry",
		role: &env.Role{
			Name:    "test",
			Workdir: "/srv/app",
			Mounts: []env.Mount{
				{Source: "/home/ada/fixtures", Target: "/data/fixtures", ReadOnly: true},
				{Source: "/home/ada/proj/testdata", Target: "/data", ReadOnly: true},
				{Source: "/home/ada/scratch space", Target: "/scratch"},
			},
			Volumes: []env.Volume{
				{Name: "gocache", Target: "/root/.cache/go-build"},
				{Name: "seed", Target: "/seed", ReadOnly: true},
			},
		},
		snap: registrySnapshot(3),
	}, {
		name: "host",
		role: &env.Role{Name: "build", Workdir: "/work"},
		snap: hostSnapshot(),
	}, {
		// A file mount, and a mount of the role's own /etc/hosts: nook
		// then writes and binds no /etc/hosts of its own.
		name: "file-mount",
		role: &env.Role{
			Name: "build",
			Mounts: []env.Mount{
				{Source: "/home/ada/.gitconfig", Target: "/root/.gitconfig", ReadOnly: true},
				{Source: "/home/ada/proj/hosts", Target: "/etc/hosts", ReadOnly: true},
			},
		},
		snap: registrySnapshot(1),
	}, {
		name: "many-layers",
		role: &env.Role{Name: "build", Workdir: "/work/cmd"},
		snap: registrySnapshot(200),
	}, {
		// user = "host": the user made to exist, /etc kept read-only,
		// just before the pivot.
		name: "host-user",
		role: &env.Role{Name: "test"},
		snap: registrySnapshot(1),
		opts: func(o *Options) {
			o.User = &mounts.User{Name: "ada", UID: 1000, GID: 1000, Home: "/home/ada"}
		},
	}, {
		name: "persistent-upper",
		role: &env.Role{Name: "build"},
		snap: registrySnapshot(2),
		opts: func(o *Options) {
			o.Upper = "/home/ada/.local/share/nook/tmp/step-1/upper"
			o.Work = "/home/ada/.local/share/nook/tmp/step-1/work"
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions()
			if tt.opts != nil {
				tt.opts(&o)
			}
			p, err := Plan(testEnv(), tt.role, tt.snap, o)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			got := p.String()
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("plan differs from %s (run with -update to accept):\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestPlanRoleOrder checks the ordering rules the golden files show, on
// their own: the host is cut off first, the root comes before anything
// mounted into it, a parent before what is mounted under it, pivot_root
// last.
func TestPlanRoleOrder(t *testing.T) {
	r := &env.Role{Name: "test", Mounts: []env.Mount{
		{Source: "/h/c", Target: "/a/b/c"},
		{Source: "/h/b", Target: "/a/b"},
		{Source: "/h/a", Target: "/a"},
		{Source: "/h/tmpx", Target: "/tmp/x"},
	}}
	p, err := Plan(testEnv(), r, registrySnapshot(2), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if k := p.Ops[0].Kind; k != mounts.OpSlave {
		t.Errorf("first op is %s, want %s", k, mounts.OpSlave)
	}
	if k := p.Ops[len(p.Ops)-1].Kind; k != mounts.OpPivotRoot {
		t.Errorf("last op is %s, want %s", k, mounts.OpPivotRoot)
	}
	index := map[string]int{}
	rootAt := -1
	for i, op := range p.Ops {
		if op.InRoot {
			index[op.Target] = i
			if rootAt < 0 {
				t.Errorf("op %d (%s) acts in the root before it is mounted", i, op.String())
			}
		}
		if op.Kind == mounts.OpOverlay && op.Target == p.Root {
			rootAt = i
		}
	}
	for _, pair := range [][2]string{{"/a", "/a/b"}, {"/a/b", "/a/b/c"}, {"/tmp", "/tmp/x"}, {"/dev", "/dev/pts"}, {"/dev", "/dev/null"}, {"/work", "/a"}} {
		if index[pair[0]] >= index[pair[1]] {
			t.Errorf("%s is mounted at op %d, after %s at op %d", pair[0], index[pair[0]], pair[1], index[pair[1]])
		}
	}
}

func TestPlanRoleLayerOrder(t *testing.T) {
	s := registrySnapshot(3)
	p, err := Plan(testEnv(), &env.Role{Name: "r"}, s, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(p.Ops, func(op mounts.Op) bool { return op.Kind == mounts.OpOverlay })
	if i < 0 {
		t.Fatal("no overlay op")
	}
	want := []string{s.Lowers[2], s.Lowers[1], s.Lowers[0]}
	if got := p.Ops[i].Lowers; !slices.Equal(got, want) {
		t.Errorf("overlay lowers = %v, want top layer first %v", got, want)
	}
	if !slices.Contains(p.Ops[i].Options, "userxattr") {
		t.Errorf("overlay options %v lack userxattr", p.Ops[i].Options)
	}
}

func TestPlanJSONRoundTrip(t *testing.T) {
	r := &env.Role{Name: "test", Mounts: []env.Mount{{Source: "/h/a", Target: "/a", ReadOnly: true}}, Volumes: []env.Volume{{Name: "v", Target: "/v"}}}
	o := testOptions()
	o.ResolvConf = []byte("nameserver 192.0.2.1\n\xff binary survives\n")
	p, err := Plan(testEnv(), r, registrySnapshot(4), o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back mounts.Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*p, back) {
		t.Errorf("plan changed through JSON:\n%s\nbecame\n%s", p, &back)
	}
}

func TestPlanRoleRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(*env.Env, *env.Role, *layers.Snapshot, *Options)
		want   string
	}{
		{"relative scratch", func(_ *env.Env, _ *env.Role, _ *layers.Snapshot, o *Options) { o.Scratch = "mnt" }, `scratch directory "mnt"`},
		{"no layers", func(_ *env.Env, _ *env.Role, s *layers.Snapshot, _ *Options) { s.Lowers = nil }, "has no layers"},
		{"relative layer", func(_ *env.Env, _ *env.Role, s *layers.Snapshot, _ *Options) { s.Lowers[0] = "layers/x" }, `layer directory "layers/x"`},
		{"upper without work", func(_ *env.Env, _ *env.Role, _ *layers.Snapshot, o *Options) { o.Upper = "/u" }, "go together"},
		{"relative mount target", func(_ *env.Env, r *env.Role, _ *layers.Snapshot, _ *Options) {
			r.Mounts = []env.Mount{{Source: "/h", Target: "data"}}
		}, `mount target "data"`},
		{"mount at /", func(_ *env.Env, r *env.Role, _ *layers.Snapshot, _ *Options) {
			r.Mounts = []env.Mount{{Source: "/h", Target: "/"}}
		}, `mount target "/"`},
		{"relative mount source", func(_ *env.Env, r *env.Role, _ *layers.Snapshot, _ *Options) {
			r.Mounts = []env.Mount{{Source: "./h", Target: "/h"}}
		}, `mount source "./h"`},
		{"volume name with a slash", func(_ *env.Env, r *env.Role, _ *layers.Snapshot, _ *Options) {
			r.Volumes = []env.Volume{{Name: "../../etc", Target: "/v"}}
		}, `volume "../../etc"`},
		{"two mounts at one target", func(_ *env.Env, r *env.Role, _ *layers.Snapshot, _ *Options) {
			r.Mounts = []env.Mount{{Source: "/h", Target: "/work/"}}
		}, "both mounted at /work"},
		{"relative role workdir", func(_ *env.Env, r *env.Role, _ *layers.Snapshot, _ *Options) { r.Workdir = "src" }, `workdir "src"`},
		{"host entry with a slash", func(_ *env.Env, _ *env.Role, s *layers.Snapshot, _ *Options) {
			s.Host, s.HostEntries = true, []layers.HostEntry{{Name: "usr/../etc", Dir: true}}
		}, `host entry "usr/../etc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, r, s, o := testEnv(), &env.Role{Name: "r"}, registrySnapshot(2), testOptions()
			tt.change(e, r, s, &o)
			p, err := Plan(e, r, s, o)
			if err == nil {
				t.Fatalf("Plan succeeded:\n%s", p)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "role r") {
				t.Errorf("error %q does not name the role and contain %q", err, tt.want)
			}
		})
	}
}
