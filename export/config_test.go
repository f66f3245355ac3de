package export

import (
	"slices"
	"testing"
	"time"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// TestImageConfigRunsTheRoleAsNookDoes checks that an exported image runs
// its role's process as nook runs it (project.RoleProcess): a role of the
// project's environment its command with no entrypoint, a role on an image
// of its own that image's entrypoint in front of the role's command, in
// the image's workdir, as the image's user.
func TestImageConfigRunsTheRoleAsNookDoes(t *testing.T) {
	e := &env.Env{Workdir: "/work"}
	base := layers.ImageConfig{Entrypoint: []string{"docker-entrypoint.sh"}, Cmd: []string{"postgres"},
		WorkingDir: "/var/lib/postgresql", User: "postgres"}
	own := &env.Environment{Name: "db", ImageRef: "postgres:16"}
	for _, tc := range []struct {
		name       string
		role       env.Role
		entrypoint []string
		cmd        []string
		workdir    string
		user       string
	}{
		{"the project's environment: the command alone, the role's workdir, root",
			env.Role{Name: "web", Command: []string{"./app"}, Workdir: "/work", User: "root"},
			nil, []string{"./app"}, "/work", "0"},
		{"a string command under /bin/sh -c, named after the role",
			env.Role{Name: "test", Command: []string{"go test ./..."}, Shell: true, Workdir: "/work", User: "root"},
			nil, []string{"/bin/sh", "-c", "go test ./...", "test"}, "/work", "0"},
		{"user = host is you here: root elsewhere",
			env.Role{Name: "test", Command: []string{"id"}, Workdir: "/work", User: "host"},
			nil, []string{"id"}, "/work", "0"},
		{"its own image, no command: the image's entrypoint, cmd, workdir and user",
			env.Role{Name: "db", Own: own},
			[]string{"docker-entrypoint.sh"}, []string{"postgres"}, "/var/lib/postgresql", "postgres"},
		{"its own image, a command: after the entrypoint, as docker run IMAGE CMD",
			env.Role{Name: "db", Own: own, Command: []string{"postgres", "-c", "fsync=off"}},
			[]string{"docker-entrypoint.sh"}, []string{"postgres", "-c", "fsync=off"}, "/var/lib/postgresql", "postgres"},
		{"its own image, entrypoint = []: the command alone, the role's user",
			env.Role{Name: "db", Own: own, Entrypoint: []string{}, Command: []string{"id"}, User: "root"},
			nil, []string{"id"}, "/var/lib/postgresql", "0"},
	} {
		snap := &layers.Snapshot{Config: base}
		cf, err := imageConfig(e, &tc.role, snap, time.Unix(0, 0).UTC(), nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		c := cf.Config
		if !slices.Equal(c.Entrypoint, tc.entrypoint) || !slices.Equal(c.Cmd, tc.cmd) || c.WorkingDir != tc.workdir || c.User != tc.user {
			t.Errorf("%s:\n got entrypoint %q cmd %q workdir %q user %q\nwant entrypoint %q cmd %q workdir %q user %q", tc.name,
				c.Entrypoint, c.Cmd, c.WorkingDir, c.User, tc.entrypoint, tc.cmd, tc.workdir, tc.user)
		}
	}
}
