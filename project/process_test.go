package project

import (
	"slices"
	"testing"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

func TestRoleProcess(t *testing.T) {
	e := &env.Env{Workdir: "/work"}
	own := &env.Environment{Name: "db", ImageRef: "postgres:16"}
	cfg := layers.ImageConfig{Entrypoint: []string{"docker-entrypoint.sh"}, Cmd: []string{"postgres"}, WorkingDir: "/srv", User: "postgres"}
	for _, tc := range []struct {
		name string
		role env.Role
		cfg  layers.ImageConfig
		args []string
		want Process
	}{
		{"project's environment: its command, workdir and user; the image's config plays no part",
			env.Role{Name: "t", Command: []string{"make", "test"}, Workdir: "/work", User: "root"}, cfg, []string{"-v"},
			Process{Args: []string{"make", "test", "-v"}, Workdir: "/work", User: "root"}},
		{"own image, no command: entrypoint and cmd, its workdir and user",
			env.Role{Name: "db", Own: own}, cfg, nil,
			Process{Args: []string{"docker-entrypoint.sh", "postgres"}, Workdir: "/srv", User: "postgres", Entrypoint: []string{"docker-entrypoint.sh"}}},
		{"own image, args replace the cmd",
			env.Role{Name: "db", Own: own}, cfg, []string{"postgres", "--version"},
			Process{Args: []string{"docker-entrypoint.sh", "postgres", "--version"}, Workdir: "/srv", User: "postgres", Entrypoint: []string{"docker-entrypoint.sh"}}},
		{"own image, a command replaces the cmd, after the entrypoint; the role's workdir and user win",
			env.Role{Name: "db", Own: own, Command: []string{"postgres", "-c", "fsync=off"}, Workdir: "/work", User: "root"}, cfg, []string{"-d", "1"},
			Process{Args: []string{"docker-entrypoint.sh", "postgres", "-c", "fsync=off", "-d", "1"}, Workdir: "/work", User: "root", Entrypoint: []string{"docker-entrypoint.sh"}}},
		{"own image, a string command under /bin/sh -c",
			env.Role{Name: "db", Own: own, Command: []string{"echo $X"}, Shell: true}, cfg, nil,
			Process{Args: []string{"docker-entrypoint.sh", "/bin/sh", "-c", "echo $X", "db"}, Workdir: "/srv", User: "postgres", Entrypoint: []string{"docker-entrypoint.sh"}}},
		{"own image, entrypoint = [] drops the entrypoint and the image's cmd",
			env.Role{Name: "db", Own: own, Entrypoint: []string{}, Command: []string{"id"}}, cfg, nil,
			Process{Args: []string{"id"}, Workdir: "/srv", User: "postgres"}},
		{"own image without a workdir: the project's",
			env.Role{Name: "db", Own: own}, layers.ImageConfig{Cmd: []string{"sh"}}, nil,
			Process{Args: []string{"sh"}, Workdir: "/work"}},
	} {
		got, err := RoleProcess(e, &tc.role, tc.cfg, tc.args)
		if err != nil || !slices.Equal(got.Args, tc.want.Args) || got.Workdir != tc.want.Workdir || got.User != tc.want.User || !slices.Equal(got.Entrypoint, tc.want.Entrypoint) {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", tc.name, got, err, tc.want)
		}
	}
	// Nothing to run: an error, with where a shell would run.
	r := &env.Role{Name: "db", Own: own, Entrypoint: []string{}}
	got, err := RoleProcess(e, r, cfg, nil)
	if err == nil || got.Workdir != "/srv" || got.User != "postgres" {
		t.Errorf("no command at all: %+v, %v; want an error, and the image's workdir and user", got, err)
	}
}
