package manifests

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/nookenv/nook/env"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from what was written (go test -update rewrites it):\n%s", path, got)
	}
}

// shopWorkload is a project of the shapes the mappings must handle: a
// database on an image of its own (its export: the image's entrypoint and
// user), a one-shot migration that needs
// it up, a build step, a web server with ports, ready, a volume, a bind
// mount and limits, and a test role run on request.
func shopWorkload() *Workload {
	tty := true
	e := &env.Env{
		File: "/home/dev/shop/nook.toml", ProjectDir: "/home/dev/shop", Project: "Shop", Hostname: "shop",
		Image: "docker.io/library/golang:1.24-bookworm", Workdir: "/work",
		Roles: map[string]*env.Role{
			"db": {Name: "db", Own: &env.Environment{Name: "db", Image: "docker.io/library/postgres:16", ImageRef: "postgres:16"},
				Vars: []string{"POSTGRES_PASSWORD=dev"}, Network: env.NetworkPrivate,
				Restart: env.RestartAlways, Ready: &env.Ready{Port: 5432},
				Volumes: []env.Volume{{Name: "pgdata", Target: "/var/lib/postgresql/data"}}},
			"migrate": {Name: "migrate", Command: []string{"go run ./cmd/migrate"}, Shell: true, Workdir: "/work",
				Network: env.NetworkPrivate, DependsOn: []string{"db"}, Vars: []string{"CGO_ENABLED=0"}},
			"build": {Name: "build", Command: []string{"go", "build", "-o", "bin/shop", "."}, Workdir: "/work",
				Network: env.NetworkPrivate, Vars: []string{"CGO_ENABLED=0"},
				Volumes: []env.Volume{{Name: "gocache", Target: "/root/.cache/go-build"}}},
			"web": {Name: "web", Command: []string{"./bin/shop", "--listen", ":8080"}, Workdir: "/work",
				Network: env.NetworkPrivate, DependsOn: []string{"build", "migrate"}, Restart: env.RestartOnFailure,
				Vars:    []string{"CGO_ENABLED=0", "PORT=8080"},
				Ports:   []env.Port{{HostPort: 8080, RolePort: 8080, Proto: "tcp"}, {HostIP: "127.0.0.1", HostPort: 9090, RolePort: 9090, Proto: "udp"}},
				Ready:   &env.Ready{Port: 8080},
				Volumes: []env.Volume{{Name: "gocache", Target: "/root/.cache/go-build"}},
				Mounts:  []env.Mount{{Source: "/home/dev/shop/testdata", Target: "/data", ReadOnly: true}},
				Limits:  env.Limits{Memory: 512 << 20, CPUs: 1.5}},
			"test": {Name: "test", Command: []string{"go test ./..."}, Shell: true, Workdir: "/work", Tty: &tty,
				Network: env.NetworkPrivate, DependsOn: []string{"web"}, Vars: []string{"CGO_ENABLED=0"}},
		},
	}
	goImage := RoleImage{
		Name: "registry.example.com/shop:v1",
		Base: []string{"PATH=/usr/local/go/bin:/usr/bin:/bin", "GOLANG_VERSION=1.24"},
		// The image of web: its env and its own PORT.
		Env: []string{"PATH=/usr/local/go/bin:/usr/bin:/bin", "HOME=/root", "GOLANG_VERSION=1.24", "CGO_ENABLED=0", "PORT=8080"},
	}
	return &Workload{
		Env:  e,
		Up:   []string{"build", "db", "migrate", "web"},
		Jobs: []string{"test"},
		Images: map[string]RoleImage{
			"db": {Name: "docker.io/library/postgres:16", Base: []string{"PATH=/usr/bin:/bin", "PGDATA=/var/lib/postgresql/data"},
				Env: []string{"PATH=/usr/bin:/bin", "PGDATA=/var/lib/postgresql/data"}, Entrypoint: []string{"docker-entrypoint.sh"}, User: "postgres"},
			"migrate": goImage, "build": goImage, "web": goImage, "test": goImage,
		},
	}
}
