package doctor

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/nookenv/nook/build"
	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/internal/testimage"
	"github.com/nookenv/nook/layers"
)

func TestUserConfig(t *testing.T) {
	f := newFake(t)
	cfg := f.m.ConfigPath
	f.expect("user config", expect{status: OK, summary: []string{cfg + ": none (the defaults: the single-id map, registries reached directly)"}})

	f.write("home/me/.config/nook/config.toml", `
[registries."docker.io"]
mirrors = ["127.0.0.1:5000", "mirror.example.com"]
[registries."127.0.0.1:5000"]
insecure = true`)
	f.expect("user config", expect{status: OK, summary: []string{cfg + `: idmap = "single"; registries 127.0.0.1:5000 (plain HTTP), docker.io (mirrors 127.0.0.1:5000, mirror.example.com) (nook doctor --registries checks that they answer)`}})

	f.write("home/me/.config/nook/config.toml", `
[registries."mirror.example.com"]
insecure = true`)
	f.expect("user config", expect{status: Warn,
		summary: []string{"; registry mirror.example.com spoken to over plain HTTP from beyond this host: anyone on the way can alter what you pull"},
		or_:     []string{"serve it over HTTPS and drop insecure = true (a registry on this host's loopback is fine as it is)"}})

	f.write("home/me/.config/nook/config.toml", `idmap = "all"`)
	f.expect("user config", expect{status: Fail, summary: []string{cfg + ":1:"},
		or_: []string{"every nook command reads this file: correct it, or move it away to use the defaults"}})
	if !Run(f.m).Blocked() {
		t.Error("an invalid user config does not block nook")
	}
}

func TestRegistries(t *testing.T) {
	f := newFake(t)
	f.write("home/me/.config/nook/config.toml", `
[registries."docker.io"]
mirrors = ["127.0.0.1:5000"]
[registries."127.0.0.1:5000"]
insecure = true`)
	f.project("ghcr.io/o/app:1", map[string]*env.Role{"db": {}})
	f.m.Project.Env.Roles["db"].Name = "db"
	for _, c := range Run(f.m).Checks {
		if c.Name[:min(len(c.Name), 8)] == "registry" {
			t.Errorf("without --registries a registry was reached: %v", c)
		}
	}
	var insecure []string
	f.m.Ping = func(_ context.Context, host string, plain bool) error {
		if plain {
			insecure = append(insecure, host)
		}
		return f.answers[host]
	}
	f.m.Registries = true
	f.answers["ghcr.io"] = errors.New("reaching registry ghcr.io: dial tcp: lookup ghcr.io: no such host")
	r := Run(f.m)
	var got []Result
	for _, c := range r.Checks {
		if len(c.Name) > 9 && c.Name[:9] == "registry " {
			got = append(got, c)
		}
	}
	want := []Result{
		{Name: "registry 127.0.0.1:5000", Status: OK, Summary: "answers"},
		{Name: "registry docker.io", Status: OK, Summary: "answers"},
		{Name: "registry ghcr.io", Status: Warn, Summary: "reaching registry ghcr.io: dial tcp: lookup ghcr.io: no such host: pulls from it fail",
			Or: []string{`check the name, your network and HTTPS_PROXY; or give a mirror in [registries."ghcr.io"] of ` + f.m.ConfigPath}},
	}
	if len(got) != len(want) {
		t.Fatalf("registry checks %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].Status != want[i].Status || got[i].Summary != want[i].Summary || len(got[i].Or) != len(want[i].Or) {
			t.Errorf("check %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if len(insecure) != 1 || insecure[0] != "127.0.0.1:5000" {
		t.Errorf("reached over plain HTTP: %v, want 127.0.0.1:5000 only", insecure)
	}
}

func TestProjectInvalid(t *testing.T) {
	f := newFake(t)
	f.m.Project = &Project{Err: hinted{msg: "nook.toml:3:1: roles.web.ports: \"80:80:80\" is not a port mapping", hint: "expected [HOST_IP:]HOST_PORT:ROLE_PORT"}}
	f.expect("nook.toml", expect{status: Fail, summary: []string{`nook.toml:3:1: roles.web.ports: "80:80:80" is not a port mapping`},
		or_: []string{"expected [HOST_IP:]HOST_PORT:ROLE_PORT"}})
	if !Run(f.m).Blocked() {
		t.Error("an invalid nook.toml does not block nook")
	}
}

func TestProjectHostBase(t *testing.T) {
	f := newFake(t)
	f.project("host", map[string]*env.Role{"hello": {}})
	f.expect("nook.toml", expect{status: OK, summary: []string{"nook.toml is valid: role hello"}})
	f.expect("environment", expect{status: OK, summary: []string{"the host's root as the base: nothing to lock, pull or build"}})
}

func TestProjectLockAndEnvironment(t *testing.T) {
	f := newFake(t)
	layout := f.m.path("home/me/src/app/layout")
	img, err := testimage.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	if err := testimage.WriteLayout(layout, "v1", img); err != nil {
		t.Fatal(err)
	}
	e := f.project("oci:layout:v1", map[string]*env.Role{"sh": {}, "test": {}})
	e.Image = "oci:" + layout + ":v1"
	f.expect("nook.toml", expect{status: OK, summary: []string{"nook.toml is valid: roles sh, test"}})
	f.expect("nook.lock", expect{status: Warn, summary: []string{"no nook.lock yet: the first build writes it"},
		fix: []string{"nook build"}, or_: []string{"then commit nook.lock: a clone gets the same image and package versions"}})
	f.expect("environment", expect{status: Warn, summary: []string{"image oci:layout:v1 is not in the store: the next run pulls it"},
		fix: []string{"nook build"}})

	store, err := layers.OpenStore(f.m.StoreDir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&build.Builder{Store: store}).Build(context.Background(), e, e.ProjectEnvironment(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Lock.Write(build.LockPath(e)); err != nil {
		t.Fatal(err)
	}
	f.expect("nook.lock", expect{status: OK, summary: []string{"pins oci:layout:v1 at sha256:"}})
	f.expect("environment", expect{status: OK, summary: []string{"built: nook run starts without a pull or a build step, offline too"}})

	// A package added to nook.toml: the lock no longer matches.
	e.Packages = []string{"make"}
	f.expect("nook.lock", expect{status: Warn, summary: []string{"nook.lock does not match nook.toml (its image or packages changed): the next build brings it up to date"},
		fix: []string{"nook build"}})
	f.expect("environment", expect{status: Warn, summary: []string{"the image is in the store; its packages and setup steps are not built yet: the next run builds them"},
		fix: []string{"nook build"}})

	// A lock nook cannot read.
	f.write("home/me/src/app/nook.lock", "version = 1\ncolour = 2")
	r := f.expect("nook.lock", expect{status: Fail, summary: []string{filepath.Join(e.ProjectDir, "nook.lock")}, or_: f.check("nook.lock").Or})
	if len(r.Or) == 0 {
		t.Errorf("an unreadable lock without a hint: %+v", r)
	}
}

func TestProjectRolesEnvironments(t *testing.T) {
	// The project on the host's root, role db on an image of its own:
	// the lock and the store are checked for db's environment.
	f := newFake(t)
	layout := f.m.path("home/me/src/app/layout")
	img, err := testimage.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	if err := testimage.WriteLayout(layout, "v1", img); err != nil {
		t.Fatal(err)
	}
	db := &env.Environment{Name: "db", Image: "oci:" + layout + ":v1", ImageRef: "oci:layout:v1"}
	e := f.project("host", map[string]*env.Role{"db": {Own: db}, "test": {}})
	f.expect("environment", expect{status: OK, summary: []string{"the host's root as the base: nothing to lock, pull or build"}})
	f.expect("nook.lock", expect{status: Warn, summary: []string{"no nook.lock yet: the first build writes it"}, fix: []string{"nook build"},
		or_: []string{"then commit nook.lock: a clone gets the same image and package versions"}})
	f.expect("environment db", expect{status: Warn, summary: []string{"image oci:layout:v1 is not in the store: the next run pulls it"},
		fix: []string{"nook build"}})

	store, err := layers.OpenStore(f.m.StoreDir)
	if err != nil {
		t.Fatal(err)
	}
	lock := build.NewLock(build.LockPath(e), nil, false)
	if _, err := (&build.Builder{Store: store}).Build(context.Background(), e, db, lock); err != nil {
		t.Fatal(err)
	}
	f.expect("nook.lock", expect{status: OK, summary: []string{"pins role db: oci:layout:v1 at sha256:"}})
	f.expect("environment db", expect{status: OK, summary: []string{"built: nook run starts without a pull or a build step, offline too"}})

	// A package added to db's environment.
	db.Packages = []string{"make"}
	f.expect("nook.lock", expect{status: Warn, summary: []string{"nook.lock does not match nook.toml for role db (its image or packages changed)"},
		fix: []string{"nook build"}})
	f.expect("environment db", expect{status: Warn, summary: []string{"the image is in the store; its packages and setup steps are not built yet"},
		fix: []string{"nook build"}})
}
