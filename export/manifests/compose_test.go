package manifests

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads a written Compose file with compose-go's own loader,
// which validates it against the Compose schema, every profile enabled.
func loadCompose(t *testing.T, path string, b []byte) *types.Project {
	t.Helper()
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: b}},
		Environment: types.Mapping{},
	}, loader.WithProfiles([]string{"*"}))
	if err != nil {
		t.Fatalf("compose-go refuses the file: %v\n%s", err, b)
	}
	return p
}

func TestCompose(t *testing.T) {
	w := shopWorkload()
	path := "/home/dev/shop/deploy/compose.yaml"
	b, _, err := Compose(w, path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "shop.compose.yaml", b)
	p := loadCompose(t, path, b)
	if p.Name != "shop" {
		t.Errorf("project name %q", p.Name)
	}
	svc := func(n string) types.ServiceConfig {
		s, err := p.GetService(n)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// db, the first long-running role, owns the pod's network: it
	// publishes every port and resolves every role name.
	db := svc("db")
	if db.NetworkMode != "" || db.Hostname != "shop" || len(db.Ports) != 2 || db.Ports[0].Published != "8080" {
		t.Errorf("db: network %q, hostname %q, ports %+v", db.NetworkMode, db.Hostname, db.Ports)
	}
	if !slices.Equal(db.ExtraHosts["web"], []string{"127.0.0.1"}) {
		t.Errorf("db's extra hosts %v", db.ExtraHosts)
	}
	if db.Restart != types.RestartPolicyAlways || db.HealthCheck == nil || db.HealthCheck.Test[0] != "CMD-SHELL" {
		t.Errorf("db: restart %q, healthcheck %+v", db.Restart, db.HealthCheck)
	}
	if db.Image != "docker.io/library/postgres:16" || db.User != "" || db.WorkingDir != "" || db.Command != nil || db.Entrypoint != nil {
		t.Errorf("db: image %q, user %q, workdir %q, command %v, entrypoint %v; want its own image run as it is (its user, workdir, entrypoint and cmd)",
			db.Image, db.User, db.WorkingDir, db.Command, db.Entrypoint)
	}
	web := svc("web")
	if web.NetworkMode != "service:db" || len(web.Ports) != 0 {
		t.Errorf("web: network %q, ports %+v: it joins db's network, which publishes its ports", web.NetworkMode, web.Ports)
	}
	wantDeps := map[string]string{"build": types.ServiceConditionCompletedSuccessfully,
		"migrate": types.ServiceConditionCompletedSuccessfully, "db": types.ServiceConditionHealthy}
	for d, c := range wantDeps {
		if web.DependsOn[d].Condition != c {
			t.Errorf("web depends on %s with %q, want %q", d, web.DependsOn[d].Condition, c)
		}
	}
	if web.Restart != types.RestartPolicyOnFailure || web.MemLimit != 512<<20 || web.CPUS != 1.5 {
		t.Errorf("web: restart %q, mem %d, cpus %v", web.Restart, web.MemLimit, web.CPUS)
	}
	var bind *types.ServiceVolumeConfig
	for i, v := range web.Volumes {
		if v.Type == types.VolumeTypeBind {
			bind = &web.Volumes[i]
		}
	}
	if bind == nil || bind.Source != "/home/dev/shop/testdata" || !bind.ReadOnly {
		t.Errorf("web's bind mount %+v: want ../testdata from the file, read-only", bind)
	}
	if _, ok := p.Volumes["pgdata"]; !ok {
		t.Errorf("volumes %v: want pgdata", p.Volumes)
	}
	// build depends on nothing: it joins the pod once db is up.
	if build := svc("build"); build.NetworkMode != "service:db" || build.Restart != types.RestartPolicyNo {
		t.Errorf("build: network %q, restart %q", build.NetworkMode, build.Restart)
	}
	if m := svc("migrate"); m.NetworkMode != "service:db" || m.Environment["PORT"] == nil || *m.Environment["PORT"] != "" {
		t.Errorf("migrate: network %q, env %v: it joins the pod and does not see web's PORT", m.NetworkMode, m.Environment)
	}
	test := svc("test")
	if !slices.Equal(test.Profiles, []string{"test"}) || !test.Tty {
		t.Errorf("test: profiles %v, tty %v: it runs on request (docker compose run test)", test.Profiles, test.Tty)
	}
}

// Without the profiles, `docker compose up` starts what nook up starts.
func TestComposeUpLeavesJobsOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "compose.yaml")
	b, _, err := Compose(shopWorkload(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir: filepath.Dir(path), ConfigFiles: []types.ConfigFile{{Filename: path}}, Environment: types.Mapping{}})
	if err != nil {
		t.Fatal(err)
	}
	names := p.ServiceNames()
	slices.Sort(names)
	if !slices.Equal(names, []string{"build", "db", "migrate", "web"}) {
		t.Errorf("services without profiles %v, want nook up's roles", names)
	}
}

// A one-shot role the network's owner depends on runs before the owner
// exists: it keeps its own network instead of joining.
func TestComposeOwnerDependsOnAOneShotRole(t *testing.T) {
	w := shopWorkload()
	w.Up, w.Jobs = []string{"build", "web"}, nil
	w.Env.Roles["web"].DependsOn = []string{"build"}
	b, _, err := Compose(w, "/home/dev/shop/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := loadCompose(t, "/home/dev/shop/compose.yaml", b)
	build, _ := p.GetService("build")
	web, _ := p.GetService("web")
	if build.NetworkMode != "" || web.NetworkMode != "" || len(web.Ports) != 2 {
		t.Errorf("build's network %q, web's %q with ports %v: web owns the pod, build runs before it", build.NetworkMode, web.NetworkMode, web.Ports)
	}
}

// The healthcheck made of ready.port finds a listening socket, and only
// one that listens.
func TestReadyCheckFindsAListeningSocket(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	check := func() error {
		test := readyCheck(port).Test
		return exec.Command("/bin/sh", "-c", test[1]).Run()
	}
	if err := check(); err != nil {
		t.Fatalf("port %d listens, the check says %v", port, err)
	}
	// A connection to it (its remote address holds the port) is not a
	// listener.
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l.Close()
	if err := check(); err == nil {
		t.Fatalf("port %d no longer listens, the check passes", port)
	}
}
