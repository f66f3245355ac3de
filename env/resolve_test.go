package env

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

const fullFile = `
image    = "docker.io/library/golang:1.24-bookworm"
packages = ["make", "sqlite3"]
setup    = ["go install gotest.tools/gotestsum@v1.12.0"]
workdir  = "/src/"
env      = { CGO_ENABLED = "0", DEBUG = true, LEVEL = 3, RATIO = 0.5, SHARED = "from env" }
env_file = "conf/dev.env"
mounts   = ["./testdata:/data:ro", "~/.gitconfig:/root/.gitconfig:ro", "/opt/tools:/tools:rw", "~:/home/me"]
volumes  = ["gocache:/root/.cache/go-build", "ro-vol:/ro:ro"]

[roles.build]
command = "go build -o bin/app ."
watch   = ["**/*.go", "go.mod"]
ignore  = ["bin/**"]

[roles.server]
command    = ["./bin/app", "--listen", ":8080"]
ports      = ["8080:8080", "127.0.0.1:9090:90/udp", "[::1]:7070:70"]
depends_on = ["build"]
env        = { PORT = "8080", SHARED = "from role" }
restart    = "on-failure"
ready      = { port = 8080 }
workdir    = "/src/cmd"
mounts     = ["../shared:/shared"]
volumes    = ["uploads:/uploads"]
user       = "1000:1000"
tty        = false

[roles.server.limits]
memory = "1.5GiB"
cpus   = 2
pids   = 1024

[roles.test]
command = "go test ./..."
network = "none"
limits  = { memory = 512, cpus = 0.5 }
`

const fullEnvFile = `# development settings
export FROM_FILE=plain value # a comment
SHARED=from file
QUOTED="a \"b\"\n"
SINGLE='$HOME # kept'
`

func TestResolveFullFile(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	dir := project(t, map[string]string{
		"My_Project.v2/nook.toml":       fullFile,
		"My_Project.v2/conf/dev.env":    fullEnvFile,
		"My_Project.v2/testdata/.keep":  "",
		"My_Project.v2/sub/placeholder": "",
	})
	dir = filepath.Join(dir, "My_Project.v2")
	c, err := Load(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Resolve(c)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(dir))
	no := false
	top := []string{
		"CGO_ENABLED=0", "DEBUG=true", "FROM_FILE=plain value", "LEVEL=3",
		"QUOTED=a \"b\"\n", "RATIO=0.5", "SHARED=from env", "SINGLE=$HOME # kept",
	}
	mounts := []Mount{
		{Source: filepath.Join(dir, "testdata"), Target: "/data", ReadOnly: true},
		{Source: "/home/tester/.gitconfig", Target: "/root/.gitconfig", ReadOnly: true},
		{Source: "/opt/tools", Target: "/tools"},
		{Source: "/home/tester", Target: "/home/me"},
	}
	volumes := []Volume{{Name: "gocache", Target: "/root/.cache/go-build"}, {Name: "ro-vol", Target: "/ro", ReadOnly: true}}
	want := &Env{
		File:       filepath.Join(dir, FileName),
		ProjectDir: dir,
		Project:    "My_Project.v2",
		ProjectID:  hex.EncodeToString(sum[:])[:12],
		Image:      "docker.io/library/golang:1.24-bookworm",
		ImageRef:   "docker.io/library/golang:1.24-bookworm",
		Packages:   []string{"make", "sqlite3"},
		Setup:      []string{"go install gotest.tools/gotestsum@v1.12.0"},
		Workdir:    "/src",
		Hostname:   "my-project-v2",
		Vars:       top,
		Mounts:     mounts,
		Volumes:    volumes,
		Roles: map[string]*Role{
			"build": {
				Name:    "build",
				Command: []string{"go build -o bin/app ."},
				Shell:   true,
				Vars:    top,
				Workdir: "/src",
				Mounts:  mounts,
				Volumes: volumes,
				Network: NetworkPrivate,
				Restart: RestartNo,
				Watch:   []string{"**/*.go", "go.mod"},
				Ignore:  []string{"bin/**"},
				User:    "root",
			},
			"server": {
				Name:    "server",
				Command: []string{"./bin/app", "--listen", ":8080"},
				Vars: []string{
					"CGO_ENABLED=0", "DEBUG=true", "FROM_FILE=plain value", "LEVEL=3", "PORT=8080",
					"QUOTED=a \"b\"\n", "RATIO=0.5", "SHARED=from role", "SINGLE=$HOME # kept",
				},
				Workdir: "/src/cmd",
				Mounts:  append(mounts[:len(mounts):len(mounts)], Mount{Source: filepath.Join(filepath.Dir(dir), "shared"), Target: "/shared"}),
				Volumes: append(volumes[:len(volumes):len(volumes)], Volume{Name: "uploads", Target: "/uploads"}),
				Ports: []Port{
					{HostPort: 8080, RolePort: 8080, Proto: "tcp"},
					{HostIP: "127.0.0.1", HostPort: 9090, RolePort: 90, Proto: "udp"},
					{HostIP: "::1", HostPort: 7070, RolePort: 70, Proto: "tcp"},
				},
				Network:   NetworkPrivate,
				DependsOn: []string{"build"},
				Restart:   RestartOnFailure,
				Ready:     &Ready{Port: 8080},
				User:      "1000:1000",
				Tty:       &no,
				Limits:    Limits{Memory: 3 << 29, CPUs: 2, Pids: 1024},
			},
			"test": {
				Name:    "test",
				Command: []string{"go test ./..."},
				Shell:   true,
				Vars:    top,
				Workdir: "/src",
				Mounts:  mounts,
				Volumes: volumes,
				Network: NetworkNone,
				Restart: RestartNo,
				User:    "root",
				Limits:  Limits{Memory: 512, CPUs: 0.5},
			},
		},
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("Resolve:\n got %s\nwant %s", dump(e), dump(want))
	}
	if got := e.RoleNames(); !reflect.DeepEqual(got, []string{"build", "server", "test"}) {
		t.Errorf("RoleNames = %v", got)
	}

	def := e.DefaultRole()
	wantDef := &Role{Vars: top, Workdir: "/src", Mounts: mounts, Volumes: volumes, Network: NetworkPrivate, Restart: RestartNo, User: "root"}
	if !reflect.DeepEqual(def, wantDef) {
		t.Errorf("DefaultRole:\n got %+v\nwant %+v", def, wantDef)
	}
	def.Vars[0] = "CHANGED=1"
	def.Mounts[0].Source = "/changed"
	if e.Vars[0] != top[0] || e.Mounts[0].Source != mounts[0].Source {
		t.Error("changing the default role changed the Env")
	}
}

// dump prints an Env with its roles expanded, for a readable diff.
func dump(e *Env) string {
	s := fmt.Sprintf("%+v", *e)
	for _, name := range e.RoleNames() {
		s += fmt.Sprintf("\n  role %s: %+v", name, *e.Roles[name])
	}
	return s
}

func TestResolveDefaults(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	dir := project(t, map[string]string{"---/nook.toml": "image = \"host\"\n[roles.a]\ncommand = [\"true\"]\n"})
	c, err := Load(filepath.Join(dir, "---", FileName))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Resolve(c)
	if err != nil {
		t.Fatal(err)
	}
	if e.Workdir != DefaultWorkdir || e.Hostname != "nook" || len(e.Vars) != 0 {
		t.Errorf("defaults: workdir %q, hostname %q, vars %q", e.Workdir, e.Hostname, e.Vars)
	}
	r := e.Roles["a"]
	if r.Workdir != DefaultWorkdir || r.Network != NetworkPrivate || r.Restart != RestartNo || r.User != "root" || r.Tty != nil || r.Shell {
		t.Errorf("role defaults: %+v", r)
	}
}

func TestResolveIsPure(t *testing.T) {
	// A Config made by hand resolves without touching the machine: the
	// home directory comes from the Config, not from $HOME.
	t.Setenv("HOME", "/elsewhere")
	c := &Config{File: "nook.toml", Path: "/p/q/nook.toml", ProjectDir: "/p/q", Home: "/home/h", Image: "busybox",
		Mounts: []Mount{{Source: "~/x", Target: "/x"}, {Source: "rel", Target: "/rel"}}}
	e, err := Resolve(c)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{{Source: "/home/h/x", Target: "/x"}, {Source: "/p/q/rel", Target: "/rel"}}
	if !reflect.DeepEqual(e.Mounts, want) {
		t.Errorf("mounts %+v, want %+v", e.Mounts, want)
	}
	c.Home = ""
	if _, err := Resolve(c); err == nil {
		t.Error("Resolve expanded ~ without a home directory")
	}
	if _, err := Resolve(nil); err == nil {
		t.Error("Resolve(nil) succeeded")
	}
}

func TestSanitiseHostname(t *testing.T) {
	long := "abcdefghij" + "abcdefghij" + "abcdefghij" + "abcdefghij" + "abcdefghij" + "abcdefghij" + "abcdefghij"
	tests := map[string]string{
		"myproject":      "myproject",
		"My_Project.v2":  "my-project-v2",
		"--a  b--":       "a-b",
		"日本":             "nook",
		"":               "nook",
		long:             long[:63],
		long[:62] + "-x": long[:62],
	}
	for in, want := range tests {
		got := sanitiseHostname(in)
		if got != want || !validHostname(got) {
			t.Errorf("sanitiseHostname(%q) = %q, want %q (a valid label)", in, got, want)
		}
	}
}

func TestResolveLocalImagePaths(t *testing.T) {
	for image, want := range map[string]string{
		"oci:../layout:v1":          "oci:/home/me/layout:v1",
		"oci:layout":                "oci:/home/me/proj/layout",
		"oci:/srv/layout:v2":        "oci:/srv/layout:v2",
		"docker-archive:img.tar":    "docker-archive:/home/me/proj/img.tar",
		"docker-archive:/x/img.tar": "docker-archive:/x/img.tar",
		"debian:bookworm":           "debian:bookworm",
		"host":                      "host",
	} {
		if got := absImage(image, "/home/me/proj"); got != want {
			t.Errorf("absImage(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestResolveOwnEnvironments(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	dir := project(t, map[string]string{"app/nook.toml": `
image    = "debian:bookworm"
packages = ["make"]
env      = { A = "1" }
volumes  = ["data:/data"]

[roles.web]
command = "make serve"

[roles.db]
image    = "oci:../images/pg:15"
packages = ["postgresql"]
setup    = ["true"]
env      = { PGDATA = "/data/pg" }

[roles.cache]
image      = "redis:7"
command    = ["redis-server", "--save", ""]
entrypoint = []
workdir    = "/srv"
user       = "redis"
`})
	c, err := Load(filepath.Join(dir, "app", FileName))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Resolve(c)
	if err != nil {
		t.Fatal(err)
	}
	web, db, cache := e.Roles["web"], e.Roles["db"], e.Roles["cache"]
	if web.Own != nil || web.Entrypoint != nil || web.Workdir != "/work" || web.User != "root" {
		t.Errorf("web, on the project's environment: %+v", web)
	}
	wantDB := &Environment{Name: "db", Image: "oci:" + filepath.Join(dir, "images/pg") + ":15", ImageRef: "oci:../images/pg:15",
		Packages: []string{"postgresql"}, Setup: []string{"true"}}
	if !reflect.DeepEqual(db.Own, wantDB) {
		t.Errorf("db's environment %+v, want %+v", db.Own, wantDB)
	}
	// The image's command, workdir and user unless the role sets them;
	// the project's env and volumes as for every role.
	if db.Command != nil || db.Workdir != "" || db.User != "" || db.Entrypoint != nil {
		t.Errorf("db: command %q, workdir %q, user %q, entrypoint %q: want the image's", db.Command, db.Workdir, db.User, db.Entrypoint)
	}
	if !reflect.DeepEqual(db.Vars, []string{"A=1", "PGDATA=/data/pg"}) || len(db.Volumes) != 1 {
		t.Errorf("db: vars %q, volumes %+v", db.Vars, db.Volumes)
	}
	if cache.Entrypoint == nil || len(cache.Entrypoint) != 0 || cache.Workdir != "/srv" || cache.User != "redis" {
		t.Errorf("cache: entrypoint %#v (want cleared), workdir %q, user %q", cache.Entrypoint, cache.Workdir, cache.User)
	}
	var names []string
	for _, x := range e.Environments() {
		names = append(names, x.Name+"="+x.ImageRef)
	}
	if want := []string{"=debian:bookworm", "cache=redis:7", "db=oci:../images/pg:15"}; !reflect.DeepEqual(names, want) {
		t.Errorf("environments %q, want %q", names, want)
	}
	if x := e.EnvironmentOf(web); x.Name != "" || x.ImageRef != "debian:bookworm" || !reflect.DeepEqual(x.Packages, []string{"make"}) {
		t.Errorf("web's environment %+v, want the project's", x)
	}
}
