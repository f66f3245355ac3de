package env

import (
	"slices"
	"testing"
)

func TestCommandLine(t *testing.T) {
	for _, c := range []struct {
		name   string
		role   Role
		args   []string
		want   []string
		unused bool
	}{
		{"array", Role{Name: "r", Command: []string{"go", "test"}}, []string{"-v"}, []string{"go", "test", "-v"}, false},
		{"one line", Role{Name: "r", Shell: true, Command: []string{"go test ./...\n"}}, []string{"-v"},
			[]string{"/bin/sh", "-c", `go test ./... "$@"`, "r", "-v"}, false},
		{"uses $1", Role{Name: "r", Shell: true, Command: []string{"echo ${1}"}}, []string{"x"},
			[]string{"/bin/sh", "-c", "echo ${1}", "r", "x"}, false},
		{"several lines", Role{Name: "r", Shell: true, Command: []string{"cd src\nmake\n"}}, []string{"x"},
			[]string{"/bin/sh", "-c", "cd src\nmake\n", "r", "x"}, true},
		{"no args", Role{Name: "r", Shell: true, Command: []string{"make"}}, nil, []string{"/bin/sh", "-c", "make", "r"}, false},
	} {
		got, unused := c.role.CommandLine(c.args)
		if !slices.Equal(got, c.want) || unused != c.unused {
			t.Errorf("%s: CommandLine(%q) = %q, %v; want %q, %v", c.name, c.args, got, unused, c.want, c.unused)
		}
	}
}

func TestLongRunning(t *testing.T) {
	for _, c := range []struct {
		role Role
		want bool
	}{
		{Role{}, false},
		{Role{Restart: RestartNo}, false},
		{Role{Restart: "always"}, true},
		{Role{Ports: []Port{{}}}, true},
	} {
		if got := c.role.LongRunning(); got != c.want {
			t.Errorf("%+v: LongRunning() = %v, want %v", c.role, got, c.want)
		}
	}
}
