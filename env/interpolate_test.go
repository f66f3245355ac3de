package env

import (
	"slices"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"NAME": "nook", "EMPTY": "", "PORT": "8080"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	for _, c := range []struct {
		in, want string
		unset    []string
	}{
		{"plain", "plain", nil},
		{"${NAME}", "nook", nil},
		{"a-${NAME}-b ${PORT}", "a-nook-b 8080", nil},
		{"${MISSING}", "", []string{"MISSING"}},
		{"${MISSING:-dflt}", "dflt", nil},
		{"${EMPTY:-dflt}", "dflt", nil},
		{"${EMPTY-dflt}", "", nil},
		{"${MISSING-dflt}", "dflt", nil},
		{"${NAME:+set}/${MISSING:+set}/${EMPTY:+set}/${EMPTY+set}", "set///set", nil},
		{"${MISSING:-${NAME}:${PORT}}", "nook:8080", nil},
		{"${MISSING:-${ALSO}}", "", []string{"ALSO"}},
		{"${NAME:?needed}", "nook", nil},
		// $$ is a literal $; a $ before anything but { or $ stays.
		{"echo $$ $$$$ $1 $@ $(pwd) $HOME ${NAME}", "echo $ $$ $1 $@ $(pwd) $HOME nook", nil},
		{"cost: 5$", "cost: 5$", nil},
	} {
		got, unset, err := expand(c.in, lookup)
		if err != nil || got != c.want || !slices.Equal(unset, c.unset) {
			t.Errorf("expand(%q) = %q, unset %v, %v; want %q, unset %v", c.in, got, unset, err, c.want, c.unset)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"${MISSING:?set it in .env}", "required variable MISSING is not set: set it in .env"},
		{"${EMPTY:?}", "required variable EMPTY is empty"},
		{"${MISSING?}", "required variable MISSING is not set"},
		{"${NAME", `"${NAME": ${ without a closing }`},
		{"${1}", `${1}: "1" is not a variable name`},
		{"${NAME%x}", `${NAME%x}: "NAME%x" is not a variable name`},
		{"${A:=b}", `${A:=b}: unknown operator ":="`},
	} {
		_, _, err := expand(c.in, lookup)
		if err == nil || err.msg != c.want {
			t.Errorf("expand(%q) failed with %v, want %q", c.in, err, c.want)
		}
	}
}

// Load interpolates every string value from the environment, then the
// project's .env; errors name the line and column of the value's key or
// element, and unset variables are warned about.
func TestLoadInterpolates(t *testing.T) {
	project(t, map[string]string{
		"nook.toml": `image = "${REGISTRY:-docker.io}/library/debian:${TAG}"
setup = ["echo ${GREETING} > /greeting"]
env = { URL = "http://${HOST}:${PORT:-8080}", LITERAL = "$$HOME" }

[roles.web]
command = "serve --name ${NAME} --pid $$$$"
ports = ["${PORT:-8080}:8080"]
ready = { port = "${PORT:-8080}" }
`,
		".env": "TAG=bookworm\nGREETING=from-dotenv\nNAME=from-dotenv\n",
	})
	env := map[string]string{"GREETING": "from-env"}
	c, err := load("nook.toml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if c.Image != "docker.io/library/debian:bookworm" {
		t.Errorf("image %q", c.Image)
	}
	if want := []string{"echo from-env > /greeting"}; !slices.Equal(c.Setup, want) {
		t.Errorf("setup %q, want %q (the environment wins over .env)", c.Setup, want)
	}
	if c.Env["URL"] != "http://:8080" || c.Env["LITERAL"] != "$HOME" {
		t.Errorf("env %q", c.Env)
	}
	web := c.Roles["web"]
	if web.Command[0] != "serve --name from-dotenv --pid $$" || web.Ports[0].HostPort != 8080 || web.Ready == nil || web.Ready.Port != 8080 {
		t.Errorf("web: command %q, ports %v, ready %v", web.Command, web.Ports, web.Ready)
	}
	if want := []string{`nook.toml:3:9: env.URL: ${HOST} is not set: it stands for an empty string`}; !slices.Equal(c.Warnings, want) {
		t.Errorf("warnings %q, want %q", c.Warnings, want)
	}
}

func TestLoadInterpolationErrors(t *testing.T) {
	project(t, map[string]string{
		"nook.toml": `image = "debian"

[roles.db]
command = "connect ${DB_URL:?set DB_URL to the database}"
volumes = [
  "data:/data",
  "${VOL",
]
`,
		".env": "OK=1\nnot a line\n",
	})
	_, err := load("nook.toml", func(string) (string, bool) { return "", false })
	var got []string
	for _, p := range problems(t, err) {
		got = append(got, p.Error())
	}
	want := []string{
		"nook.toml:4:1: roles.db.command: required variable DB_URL is not set: set DB_URL to the database",
		`nook.toml:7:3: roles.db.volumes: "${VOL": ${ without a closing }`,
		`.env:2:1: "not a line" is not KEY=VALUE`,
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// ready.port may be a string, to be interpolated; it must hold a number.
func TestLoadReadyPortString(t *testing.T) {
	project(t, map[string]string{"nook.toml": "image = \"debian\"\n[roles.db]\ncommand = \"x\"\nready = { port = \"${DB_PORT:-postgres}\" }\n"})
	_, err := load("nook.toml", func(string) (string, bool) { return "", false })
	if err == nil || err.Error() != `nook.toml:4:11: roles.db.ready.port: "postgres" is not a port number` {
		t.Errorf("Load = %v", err)
	}
}
