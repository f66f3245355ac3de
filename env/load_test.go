package env

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// project writes files (path → content) into a fresh directory and changes
// into it, so errors name "nook.toml" as a user would see it.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	return dir
}

// problems splits Load's error into its *Errors.
func problems(t *testing.T, err error) []*Error {
	t.Helper()
	var list []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		list = joined.Unwrap()
	} else {
		list = []error{err}
	}
	out := make([]*Error, len(list))
	for i, e := range list {
		var pe *Error
		if !errors.As(e, &pe) {
			t.Fatalf("problem %d is %T, not *Error: %v", i, e, e)
		}
		out[i] = pe
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	tests := []struct {
		name string
		toml string
		want []string // every problem's Error(), in order
		hint string   // the first problem's hint, when it has one to check
	}{
		{
			name: "unknown top-level key",
			toml: "image = \"busybox\"\ncolour = \"blue\"\n",
			want: []string{`nook.toml:2:1: colour: unknown key "colour"; allowed keys are image, packages, setup, workdir, hostname, env, env_file, mounts, volumes, roles`},
		},
		{
			name: "unknown role key with a near miss",
			toml: "image = \"busybox\"\n\n[roles.build]\n  comand = \"true\"\n",
			want: []string{
				`nook.toml:3:2: roles.build: role build has no command`,
				`nook.toml:4:3: roles.build.comand: unknown key "comand"; allowed keys are command, env, workdir, mounts, volumes, ports, network, depends_on, restart, ready, watch, ignore, image, packages, setup, entrypoint, user, tty, limits, ssh_agent`,
			},
			hint: `e.g. command = "make test"`,
		},
		{
			name: "unknown keys in ready and limits",
			toml: "image = \"busybox\"\n[roles.s]\ncommand = \"x\"\nready = { port = 80, timeout = 5 }\nlimits = { memory = \"1G\", swap = \"1G\" }\n",
			want: []string{
				`nook.toml:4:22: roles.s.ready.timeout: unknown key "timeout"; allowed keys are port`,
				`nook.toml:5:27: roles.s.limits.swap: unknown key "swap"; allowed keys are memory, cpus, pids`,
			},
		},
		{
			name: "wrong type",
			toml: "image = 42\n",
			want: []string{`nook.toml:1:1: image: expected a string, found an integer`},
		},
		{
			name: "wrong type of an element in a multi-line array",
			toml: "image = \"busybox\"\nsetup = [\n  \"make\", # first\n\n  true,\n]\n",
			want: []string{`nook.toml:5:3: setup: expected an array of strings; element 2 is a boolean`},
		},
		{
			name: "roles not a table",
			toml: "image = \"busybox\"\nroles = [\"a\"]\n",
			want: []string{`nook.toml:2:1: roles: expected a table of roles, found an array`},
		},
		{
			name: "missing image",
			toml: "\n[roles.a]\ncommand = \"x\"\n",
			want: []string{`nook.toml:1:1: image: missing: nook.toml must name a base image`},
			hint: `e.g. image = "debian:bookworm"`,
		},
		{
			name: "bad image reference",
			toml: "image = \"Debian Bookworm\"\n",
			want: []string{`nook.toml:1:1: image: "Debian Bookworm" is not an image reference; expected host, oci:PATH[:TAG], docker-archive:PATH or a registry reference such as debian:bookworm`},
		},
		{
			name: "image with a URL scheme",
			toml: "image = \"https://ghcr.io/o/r:1\"\n",
			want: []string{`nook.toml:1:1: image: "https://ghcr.io/o/r:1" is not an image reference: it has a URL scheme`},
		},
		{
			name: "oci image without a path",
			toml: "image = \"oci:\"\n",
			want: []string{`nook.toml:1:1: image: "oci:" names no OCI layout directory; expected oci:PATH[:TAG]`},
		},
		{
			name: "host base with packages and setup",
			toml: "image = \"host\"\npackages = [\"make\"]\nsetup = [\"true\"]\n",
			want: []string{
				`nook.toml:2:1: packages: the host base cannot take packages or setup steps`,
				`nook.toml:3:1: setup: the host base cannot take packages or setup steps`,
			},
		},
		{
			name: "bad package and empty setup step",
			toml: "image = \"busybox\"\npackages = [\"make\", \"-y\", \"a b\"]\nsetup = [\" \"]\n",
			want: []string{
				`nook.toml:2:1: packages: "-y" is not a package name`,
				`nook.toml:2:1: packages: "a b" is not a package name`,
				`nook.toml:3:1: setup: setup step 1 is empty`,
			},
		},
		{
			name: "a role's packages, setup and entrypoint without its own image",
			toml: "image = \"busybox\"\n[roles.t]\ncommand = \"x\"\npackages = [\"jq\"]\nsetup = [\"true\"]\nentrypoint = []\n",
			want: []string{
				`nook.toml:4:1: roles.t.packages: a role's packages build its own image: role t has no image (it runs in the project's environment)`,
				`nook.toml:5:1: roles.t.setup: a role's setup build its own image: role t has no image (it runs in the project's environment)`,
				`nook.toml:6:1: roles.t.entrypoint: entrypoint replaces the entrypoint of a role's own image: role t has no image`,
			},
			hint: "set image on the role to build its own environment, or list them at the top level for the project's",
		},
		{
			name: "a role's own image: checked, host without steps or command",
			toml: "image = \"busybox\"\n[roles.a]\nimage = \"Not An Image\"\n[roles.b]\nimage = \"host\"\npackages = [\"jq\"]\n[roles.c]\nimage = \"debian:bookworm\"\npackages = [\"-y\"]\nsetup = [\"\"]\n",
			want: []string{
				`nook.toml:3:1: roles.a.image: "Not An Image" is not an image reference; expected host, oci:PATH[:TAG], docker-archive:PATH or a registry reference such as debian:bookworm`,
				`nook.toml:4:2: roles.b: role b has no command, and the host base has no entrypoint or cmd to run`,
				`nook.toml:6:1: roles.b.packages: the host base cannot take packages or setup steps`,
				`nook.toml:9:1: roles.c.packages: "-y" is not a package name`,
				`nook.toml:10:1: roles.c.setup: setup step 1 is empty`,
			},
		},
		{
			name: "bad port mapping",
			toml: "image = \"busybox\"\n\n[roles.server]\ncommand = \"true\"\nports = [\"80:80:80\"]\n",
			want: []string{`nook.toml:5:1: roles.server.ports: "80:80:80" is not a port mapping; expected [HOST_IP:]HOST_PORT:ROLE_PORT[/tcp|/udp]`},
		},
		{
			name: "bare port",
			toml: "image = \"busybox\"\n[roles.s]\ncommand = \"x\"\nports = [\"8080\"]\n",
			want: []string{`nook.toml:4:1: roles.s.ports: "8080" is not a port mapping; expected [HOST_IP:]HOST_PORT:ROLE_PORT[/tcp|/udp]`},
			hint: `write "8080:8080" to publish role port 8080 on the same host port`,
		},
		{
			name: "port as an integer",
			toml: "image = \"busybox\"\n[roles.s]\ncommand = \"x\"\nports = [8080]\n",
			want: []string{`nook.toml:4:1: roles.s.ports: expected a string like "8080:80", found an integer`},
			hint: `write ports as strings, e.g. "8080:8080"`,
		},
		{
			name: "ports out of range, bad protocol, bad addresses",
			toml: "image = \"busybox\"\n[roles.s]\ncommand = \"x\"\nports = [\n  \"0:80\",\n  \"8080:65536\",\n  \"8081:81/sctp\",\n  \"::1:8082:82\",\n  \"[1.2.3.4]:8083:83\",\n  \"localhost:8084:84\",\n  \"a:b\",\n]\n",
			want: []string{
				`nook.toml:5:3: roles.s.ports: "0:80": 0 is not a port; expected 1 to 65535`,
				`nook.toml:6:3: roles.s.ports: "8080:65536": 65536 is not a port; expected 1 to 65535`,
				`nook.toml:7:3: roles.s.ports: "8081:81/sctp": unknown protocol "sctp"; expected tcp or udp`,
				`nook.toml:8:3: roles.s.ports: "::1:8082:82" is not a port mapping; expected [HOST_IP:]HOST_PORT:ROLE_PORT[/tcp|/udp]`,
				`nook.toml:9:3: roles.s.ports: "[1.2.3.4]:8083:83": "1.2.3.4" is not an IPv6 address`,
				`nook.toml:10:3: roles.s.ports: "localhost:8084:84" is not a port mapping; expected [HOST_IP:]HOST_PORT:ROLE_PORT[/tcp|/udp]`,
				`nook.toml:11:3: roles.s.ports: "a:b": "a" is not a port number; expected [HOST_IP:]HOST_PORT:ROLE_PORT[/tcp|/udp]`,
			},
		},
		{
			name: "bad mounts",
			toml: "image = \"busybox\"\nmounts = [\"relative-target\", \"./a:data\", \"./a:/a:rx\", \"~bob/x:/x\", \":/y\", \"/z:/\"]\n",
			want: []string{
				`nook.toml:2:1: mounts: "relative-target" is not a mount; expected SRC:DST[:ro|rw]`,
				`nook.toml:2:1: mounts: "./a:data": the target "data" is not an absolute path`,
				`nook.toml:2:1: mounts: "./a:/a:rx": unknown mount option "rx"; expected ro or rw`,
				`nook.toml:2:1: mounts: "~bob/x:/x": only ~ and ~/… are expanded, not ~user`,
				`nook.toml:2:1: mounts: ":/y" has an empty source; expected SRC:DST[:ro|rw]`,
				`nook.toml:2:1: mounts: "/z:/": nothing can be mounted over /`,
			},
		},
		{
			name: "bad volumes",
			toml: "image = \"busybox\"\nvolumes = [\"-x:/a\", \"cache\", \"c:/c:rw\", \"d:/d:z\"]\n",
			want: []string{
				`nook.toml:2:1: volumes: "-x:/a": "-x" is not a volume name; expected letters, digits, _, . and - (not first), at most 128`,
				`nook.toml:2:1: volumes: "cache" is not a volume; expected NAME:DST[:ro]`,
				`nook.toml:2:1: volumes: "d:/d:z": unknown volume option "z"; expected ro or rw`,
			},
		},
		{
			name: "duplicate targets at the top level",
			toml: "image = \"busybox\"\nmounts = [\n  \"./a:/data\",\n  \"./b:/work/\",\n]\nvolumes = [\"cache:/data/\"]\n",
			want: []string{
				`nook.toml:4:3: mounts: "/work" is already the target of the project directory (workdir)`,
				`nook.toml:6:1: volumes: "/data" is already the target of mount "./a:/data" at line 3`,
			},
			hint: projectHint,
		},
		{
			name: "duplicate target with a set workdir",
			toml: "image = \"busybox\"\nworkdir = \"/src\"\nvolumes = [\"src:/src\", \"work:/work\"]\n",
			want: []string{`nook.toml:3:1: volumes: "/src" is already the target of the project directory (workdir) at line 2`},
		},
		{
			name: "duplicate targets within a role's merged set",
			toml: "image = \"busybox\"\nvolumes = [\"cache:/cache\"]\n\n[roles.a]\ncommand = \"x\"\nmounts = [\"/tmp:/cache\", \"/srv:/srv\", \"/w:/work\"]\nvolumes = [\"srv:/srv\"]\n\n[roles.b]\ncommand = \"x\"\nmounts = [\"/srv:/srv\"]\n",
			want: []string{
				`nook.toml:6:1: roles.a.mounts: "/cache" is already the target of the top-level volume "cache:/cache" at line 2`,
				`nook.toml:6:1: roles.a.mounts: "/work" is already the target of the project directory (workdir)`,
				`nook.toml:7:1: roles.a.volumes: "/srv" is already the target of mount "/srv:/srv" at line 6`,
			},
			hint: "a role's mounts and volumes add to the top-level ones; choose another target",
		},
		{
			name: "depends_on problems",
			toml: "image = \"busybox\"\n[roles.a]\ncommand = \"x\"\ndepends_on = [\"nobody\", \"a\", \"b\", \"b\"]\n[roles.b]\ncommand = \"x\"\ndepends_on = [\"bb\"]\n",
			want: []string{
				`nook.toml:4:1: roles.a.depends_on: unknown role "nobody"; the roles are a, b`,
				`nook.toml:4:1: roles.a.depends_on: role a depends on itself`,
				`nook.toml:4:1: roles.a.depends_on: b is listed twice`,
				`nook.toml:7:1: roles.b.depends_on: unknown role "bb"; the roles are a, b`,
			},
		},
		{
			name: "near miss in depends_on",
			toml: "image = \"busybox\"\n[roles.build]\ncommand = \"x\"\n[roles.test]\ncommand = \"x\"\ndepends_on = [\"biuld\"]\n",
			want: []string{`nook.toml:6:1: roles.test.depends_on: unknown role "biuld"; the roles are build, test`},
			hint: `did you mean "build"?`,
		},
		{
			name: "two-role cycle",
			toml: "image = \"busybox\"\n\n[roles.a]\ncommand = \"true\"\ndepends_on = [\"b\"]\n\n[roles.b]\ncommand = \"true\"\ndepends_on = [\"a\"]\n",
			want: []string{`nook.toml:9:1: roles.b.depends_on: dependency cycle: a → b → a`},
		},
		{
			name: "three-role cycle behind a root",
			toml: "image = \"busybox\"\n[roles.root]\ncommand = \"x\"\ndepends_on = [\"x\"]\n[roles.x]\ncommand = \"x\"\ndepends_on = [\"y\"]\n[roles.y]\ncommand = \"x\"\ndepends_on = [\"z\"]\n[roles.z]\ncommand = \"x\"\ndepends_on = [\"ok\", \"x\"]\n[roles.ok]\ncommand = \"x\"\n",
			want: []string{`nook.toml:13:1: roles.z.depends_on: dependency cycle: x → y → z → x`},
		},
		{
			name: "host port published twice",
			toml: "image = \"busybox\"\n\n[roles.a]\ncommand = \"true\"\nports = [\"8080:80\", \"127.0.0.1:9000:1\", \"127.0.0.2:9000:2\", \"8080:80/udp\", \"[::1]:7000:1\"]\n\n[roles.b]\ncommand = \"true\"\nports = [\n  \"8080:81\",\n  \"0.0.0.0:9000:3\",\n  \"7000:2\",\n  \"[::1]:9000:4\",\n]\n",
			want: []string{
				`nook.toml:10:3: roles.b.ports: host port 8080/tcp is already published by role a (8080:80/tcp at line 5)`,
				`nook.toml:11:3: roles.b.ports: host port 9000/tcp is already published by role a (127.0.0.1:9000:1/tcp at line 5)`,
				`nook.toml:12:3: roles.b.ports: host port 7000/tcp is already published by role a ([::1]:7000:1/tcp at line 5)`,
			},
		},
		{
			name: "host port twice in one role",
			toml: "image = \"busybox\"\n[roles.a]\ncommand = \"x\"\nports = [\"80:80\", \"80:81\"]\n",
			want: []string{`nook.toml:4:1: roles.a.ports: host port 80/tcp is already published by this role (80:80/tcp at line 4)`},
		},
		{
			name: "ports with network none or mismatched on host",
			toml: "image = \"busybox\"\n[roles.a]\ncommand = \"x\"\nnetwork = \"none\"\nports = [\"80:80\"]\n[roles.b]\ncommand = \"x\"\nnetwork = \"host\"\nports = [\"81:81\", \"82:83\"]\n",
			want: []string{
				`nook.toml:5:1: roles.a.ports: a role with network = "none" cannot publish ports`,
				`nook.toml:9:1: roles.b.ports: 82:83/tcp: with network = "host" the role listens on the host itself, so HOST_PORT and ROLE_PORT must be the same`,
			},
		},
		{
			name: "enums",
			toml: "image = \"busybox\"\n[roles.a]\ncommand = \"x\"\nnetwork = \"bridge\"\nrestart = \"unless-stopped\"\n",
			want: []string{
				`nook.toml:4:1: roles.a.network: "bridge" is not allowed; expected private, host, none`,
				`nook.toml:5:1: roles.a.restart: "unless-stopped" is not allowed; expected no, on-failure, always`,
			},
		},
		{
			name: "commands",
			toml: "image = \"busybox\"\n[roles.a]\ncommand = \" \"\n[roles.b]\ncommand = []\n[roles.c]\ncommand = 7\n[roles.d]\ncommand = [\"\", \"x\"]\n",
			want: []string{
				`nook.toml:3:1: roles.a.command: the command is empty`,
				`nook.toml:5:1: roles.b.command: the command is empty`,
				`nook.toml:7:1: roles.c.command: expected a string or an array of strings, found an integer`,
				`nook.toml:9:1: roles.d.command: the command's first element, the program, is empty`,
			},
		},
		{
			name: "workdirs and hostname",
			toml: "image = \"busybox\"\nworkdir = \"work\"\nhostname = \"-bad-\"\n[roles.a]\ncommand = \"x\"\nworkdir = \"sub\"\n",
			want: []string{
				`nook.toml:2:1: workdir: "work" is not an absolute path`,
				`nook.toml:3:1: hostname: "-bad-" is not a host name; expected 1 to 63 letters, digits and -, not starting or ending with -`,
				`nook.toml:6:1: roles.a.workdir: "sub" is not an absolute path`,
			},
		},
		{
			name: "project mounted at /",
			toml: "image = \"busybox\"\nworkdir = \"/\"\n",
			want: []string{`nook.toml:2:1: workdir: the project directory cannot be mounted at /`},
		},
		{
			name: "env values and names",
			toml: "image = \"busybox\"\nenv = { OK = 1, LIST = [1], \"1BAD\" = \"x\", \"A=B\" = \"y\", WHEN = 2024-01-02 }\n[roles.a]\ncommand = \"x\"\nenv = \"A=B\"\n",
			want: []string{
				`nook.toml:2:17: env.LIST: expected a string, integer, float or boolean, found an array`,
				`nook.toml:2:29: env.1BAD: "1BAD" is not an environment variable name; expected letters, digits, _, . and -, not starting with a digit, . or -`,
				`nook.toml:2:43: env."A=B": "A=B" is not an environment variable name; expected letters, digits, _, . and -, not starting with a digit, . or -`,
				`nook.toml:2:56: env.WHEN: expected a string, integer, float or boolean, found a datetime`,
				`nook.toml:5:1: roles.a.env: expected a table, found a string`,
			},
		},
		{
			name: "globs",
			toml: "image = \"busybox\"\n[roles.a]\ncommand = \"x\"\nwatch = [\"/abs/*.go\", \"../up/*.go\", \"a/../../b\", \"[\", \"**/*.go\"]\nignore = [\"\"]\n",
			want: []string{
				`nook.toml:4:1: roles.a.watch: "/abs/*.go" is absolute; globs are relative to the project directory`,
				`nook.toml:4:1: roles.a.watch: "../up/*.go" leaves the project directory (..)`,
				`nook.toml:4:1: roles.a.watch: "a/../../b" leaves the project directory (..)`,
				`nook.toml:4:1: roles.a.watch: "[" is not a glob: syntax error in pattern`,
				`nook.toml:5:1: roles.a.ignore: the glob is empty`,
			},
		},
		{
			name: "limits",
			toml: "image = \"busybox\"\n[roles.a]\ncommand = \"x\"\n[roles.a.limits]\nmemory = \"2 parsecs\"\ncpus = 0\npids = -1\n[roles.b]\ncommand = \"x\"\nlimits = { memory = 1.5, cpus = \"2\", pids = 1.0 }\n",
			want: []string{
				`nook.toml:5:1: roles.a.limits.memory: "2 parsecs" is not a memory size; expected a number with B, K, KB, KiB, M, MB, MiB, G, GB or GiB`,
				`nook.toml:6:1: roles.a.limits.cpus: 0 is not a CPU limit; expected a number above 0`,
				`nook.toml:7:1: roles.a.limits.pids: -1 is not a pids limit; expected 1 or more`,
				`nook.toml:10:12: roles.b.limits.memory: expected a string like "2GiB", found a float`,
				`nook.toml:10:26: roles.b.limits.cpus: expected a number, found a string`,
				`nook.toml:10:38: roles.b.limits.pids: expected an integer, found a float`,
			},
		},
		{
			name: "ready, user and tty",
			toml: "image = \"busybox\"\n[roles.a]\ncommand = \"x\"\nready = 8080\nuser = \"a b\"\ntty = \"yes\"\n[roles.b]\ncommand = \"x\"\nready = {}\n",
			want: []string{
				`nook.toml:4:1: roles.a.ready: expected a table, found an integer`,
				`nook.toml:5:1: roles.a.user: "a b" is not a user; expected a name or id, optionally :group`,
				`nook.toml:6:1: roles.a.tty: expected a boolean (true or false), found a string`,
				`nook.toml:9:1: roles.b.ready: missing port: the check waits until the port accepts connections`,
			},
		},
		{
			name: "role name",
			toml: "image = \"busybox\"\n[roles.Web]\ncommand = \"x\"\n",
			want: []string{`nook.toml:2:2: roles.Web: "Web" is not a role name; expected lowercase letters, digits, _ and -, starting with a letter or digit`},
		},
		{
			name: "syntax error",
			toml: "image = \"busybox\"\n\n[roles.build\ncommand = \"true\"\n",
			want: []string{`nook.toml:3:13: expected '.' or ']' to end table name, but got '\n' instead`},
		},
		{
			name: "unquoted string is a syntax error with a hint",
			toml: "image = busybox\n",
			want: []string{`nook.toml:1:9: image: expected value but found "busybox" instead`},
			hint: `strings are quoted: write key = "value"`,
		},
		{
			name: "duplicate key is a syntax error",
			toml: "image = \"a\"\nimage = \"b\"\n",
			want: []string{`nook.toml:2:1: image: Key 'image' has already been defined.`},
		},
		{
			name: "positions in dotted keys, inline tables and quoted keys",
			toml: "image = \"busybox\"\nroles.a.command = \"x\"\nroles . a . 'colour' = 1\nroles.b = { command = \"x\", \"ports\" = [\"1\"], ready.port = 0 }\n\"roles\".\"c x\".command = \"x\"\nroles.d.limits = { memory = \"1G\", pids = 0 }\n",
			want: []string{
				`nook.toml:3:1: roles.a.colour: unknown key "colour"; allowed keys are command, env, workdir, mounts, volumes, ports, network, depends_on, restart, ready, watch, ignore, image, packages, setup, entrypoint, user, tty, limits, ssh_agent`,
				`nook.toml:4:28: roles.b.ports: "1" is not a port mapping; expected [HOST_IP:]HOST_PORT:ROLE_PORT[/tcp|/udp]`,
				`nook.toml:4:45: roles.b.ready.port: 0 is not a port; expected 1 to 65535`,
				`nook.toml:5:1: roles."c x": "c x" is not a role name; expected lowercase letters, digits, _ and -, starting with a letter or digit`,
				`nook.toml:6:1: roles.d: role d has no command`,
				`nook.toml:6:35: roles.d.limits.pids: 0 is not a pids limit; expected 1 or more`,
			},
		},
		{
			name: "errors come sorted by position across sections",
			toml: "[roles.z]\ncommand = 1\n[roles.a]\ncommand = 2\n",
			want: []string{
				`nook.toml:1:1: image: missing: nook.toml must name a base image`,
				`nook.toml:2:1: roles.z.command: expected a string or an array of strings, found an integer`,
				`nook.toml:4:1: roles.a.command: expected a string or an array of strings, found an integer`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			project(t, map[string]string{FileName: tt.toml})
			c, err := Load(FileName)
			if err == nil {
				t.Fatalf("Load accepted the file: %+v", c)
			}
			if c != nil {
				t.Errorf("Load returned a Config with its error")
			}
			var got []string
			for _, p := range problems(t, err) {
				got = append(got, p.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
			if tt.hint != "" {
				if h := problems(t, err)[0].Hint(); h != tt.hint {
					t.Errorf("hint = %q, want %q", h, tt.hint)
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{File: "nook.toml", Line: 12, Col: 9, Key: "roles.server.ports", Msg: `"80:80:80" is not a port mapping`, Fix: "fix it"}
	if got, want := e.Error(), `nook.toml:12:9: roles.server.ports: "80:80:80" is not a port mapping`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if e.Hint() != "fix it" {
		t.Errorf("Hint() = %q", e.Hint())
	}
	bare := &Error{File: "nook.toml", Msg: "unreadable"}
	if got, want := bare.Error(), "nook.toml: unreadable"; got != want {
		t.Errorf("Error() without position or key = %q, want %q", got, want)
	}
}

func TestLoadFileMissing(t *testing.T) {
	project(t, nil)
	_, err := Load(FileName)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), FileName) {
		t.Errorf("Load of a missing file: %v, want a not-exist error naming %s", err, FileName)
	}
}

func TestLoadNamesFileAsGiven(t *testing.T) {
	dir := project(t, map[string]string{"sub/nook.toml": "image = 1\n"})
	for _, path := range []string{"sub/nook.toml", filepath.Join(dir, "sub", "nook.toml")} {
		_, err := Load(path)
		if want := path + ":1:1: image: expected a string, found an integer"; err == nil || err.Error() != want {
			t.Errorf("Load(%q) = %v, want %s", path, err, want)
		}
	}
}

func TestEnvFileErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
		hint  string
	}{
		{
			name:  "missing",
			files: map[string]string{FileName: "image = \"busybox\"\nenv_file = \"conf/.env\"\n"},
			want:  []string{"nook.toml:2:1: env_file: cannot read conf/.env: no such file or directory"},
			hint:  "env_file is relative to the directory of nook.toml",
		},
		{
			name: "bad lines, after the problems in nook.toml",
			files: map[string]string{
				FileName: "image = \"busybox\"\nenv_file = \".env\"\ncolour = 1\n",
				".env":   "# settings\nOK=1\nJUST TEXT\n\nexport 2X=1\nQ=\"open\n",
			},
			want: []string{
				`nook.toml:3:1: colour: unknown key "colour"; allowed keys are image, packages, setup, workdir, hostname, env, env_file, mounts, volumes, roles`,
				`.env:3:1: env_file: "JUST TEXT" is not KEY=VALUE`,
				`.env:5:8: env_file: "2X" is not an environment variable name`,
				`.env:6:3: env_file: the value of Q has no closing "`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			project(t, tt.files)
			_, err := Load(FileName)
			if err == nil {
				t.Fatal("Load accepted the file")
			}
			var got []string
			for _, p := range problems(t, err) {
				got = append(got, p.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
			if tt.hint != "" && problems(t, err)[0].Hint() != tt.hint {
				t.Errorf("hint = %q, want %q", problems(t, err)[0].Hint(), tt.hint)
			}
		})
	}
}

func TestEnvFileBesideDisplayedPath(t *testing.T) {
	project(t, map[string]string{"p/nook.toml": "image = \"busybox\"\nenv_file = \".env\"\n", "p/.env": "A B\n"})
	_, err := Load("p/nook.toml")
	if want := `p/.env:1:1: env_file: "A B" is not KEY=VALUE`; err == nil || err.Error() != want {
		t.Errorf("Load = %v, want %s", err, want)
	}
}
