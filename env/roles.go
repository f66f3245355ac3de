package env

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
)

// roleKeys are the keys a [roles.NAME] table may hold.
var roleKeys = []string{"command", "env", "workdir", "mounts", "volumes", "ports", "network", "depends_on", "restart", "ready", "watch", "ignore", "image", "packages", "setup", "entrypoint", "user", "tty", "limits", "ssh_agent"}

// roles decodes the roles table, remembering the order roles are written in.
func (d *projectDecoder) roles(key []string, v any) map[string]*RoleConfig {
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(key, "write each role as a table: [roles.NAME]", "expected a table of roles, found %s", typeName(v))
		return nil
	}
	names := sortedKeys(m)
	slices.SortStableFunc(names, func(a, b string) int {
		return byPosition(d.pos.key(child(key, a)), d.pos.key(child(key, b)))
	})
	out := make(map[string]*RoleConfig, len(m))
	for _, name := range names {
		rkey := child(key, name)
		if !isRoleName(name) {
			d.fail(rkey, "", "%q is not a role name; expected lowercase letters, digits, _ and -, starting with a letter or digit", name)
		}
		if r := d.role(name, rkey, m[name]); r != nil {
			out[name] = r
			d.roleOrder = append(d.roleOrder, name)
		}
	}
	return out
}

// role decodes one role table.
func (d *projectDecoder) role(name string, key []string, v any) *RoleConfig {
	m, ok := d.table(key, v, roleKeys)
	if !ok {
		return nil
	}
	r := &RoleConfig{}
	for _, k := range sortedKeys(m) {
		v, k2 := m[k], child(key, k)
		switch k {
		case "command":
			r.Command, r.Shell = d.command(k2, v)
		case "env":
			r.Env = d.envTable(k2, v)
		case "workdir":
			if s, ok := d.str(k2, v); ok {
				if dir, err := checkWorkdir(s); err != nil {
					d.failSpec(k2, -1, err)
				} else {
					r.Workdir = dir
				}
			}
		case "mounts":
			r.Mounts = d.mounts(name, k2, v)
		case "volumes":
			r.Volumes = d.volumes(name, k2, v)
		case "ports":
			r.Ports = d.rolePorts(name, k2, v)
		case "network":
			r.Network = d.enum(k2, v, NetworkPrivate, NetworkHost, NetworkNone)
		case "depends_on":
			r.DependsOn = d.stringList(k2, v, nil)
		case "restart":
			r.Restart = d.enum(k2, v, RestartNo, RestartOnFailure, RestartAlways)
		case "ready":
			r.Ready = d.ready(k2, v)
		case "watch", "ignore":
			globs := d.stringList(k2, v, func(i int, s string) bool {
				if err := checkGlob(s); err != nil {
					d.failSpec(k2, i, err)
					return false
				}
				return true
			})
			if k == "watch" {
				r.Watch = globs
			} else {
				r.Ignore = globs
			}
		case "user":
			if s, ok := d.str(k2, v); ok {
				if !isUserName(s) {
					d.fail(k2, "", "%q is not a user; expected a name or id, optionally :group", s)
				} else {
					r.User = s
				}
			}
		case "tty":
			if b, ok := d.boolean(k2, v); ok {
				r.Tty = &b
			}
		case "ssh_agent":
			r.SSHAgent, _ = d.boolean(k2, v)
		case "limits":
			r.Limits = d.limits(k2, v)
		case "image":
			r.Image, _ = d.image(k2, v)
		case "packages":
			r.Packages = d.packages(k2, v)
		case "setup":
			r.Setup = d.setup(k2, v)
		case "entrypoint":
			r.Entrypoint = d.stringList(k2, v, nil)
		}
	}
	d.ownEnvironment(name, key, m, r)
	if r.Network == NetworkNone && len(r.Ports) > 0 {
		d.fail(child(key, "ports"), "remove ports, or set network to \"private\"", "a role with network = \"none\" cannot publish ports")
	}
	if r.Network == NetworkHost {
		for i, p := range r.Ports {
			if p.HostPort != p.RolePort {
				d.failElem(child(key, "ports"), i, "", "%s: with network = \"host\" the role listens on the host itself, so HOST_PORT and ROLE_PORT must be the same", p)
			}
		}
	}
	return r
}

// command decodes a command: a string runs under /bin/sh -c, an array is
// exec'd as is.
func (d *projectDecoder) command(key []string, v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		if strings.TrimSpace(v) == "" {
			d.fail(key, "", "the command is empty")
			return nil, false
		}
		return []string{v}, true
	case []any:
		argv := d.stringList(key, v, nil)
		switch {
		case len(v) == 0:
			d.fail(key, "", "the command is empty")
		case len(argv) == len(v) && argv[0] == "":
			d.fail(key, "", "the command's first element, the program, is empty")
		}
		return argv, false
	default:
		d.fail(key, `e.g. command = "make" or command = ["make", "test"]`, "expected a string or an array of strings, found %s", typeName(v))
		return nil, false
	}
}

// enum decodes a string that must be one of allowed.
func (d *decoder) enum(key []string, v any, allowed ...string) string {
	s, ok := d.str(key, v)
	if !ok {
		return ""
	}
	if !slices.Contains(allowed, s) {
		d.fail(key, "", "%q is not allowed; expected %s", s, strings.Join(allowed, ", "))
		return ""
	}
	return s
}

// rolePorts decodes a role's ports.
func (d *projectDecoder) rolePorts(role string, key []string, v any) []Port {
	a, ok := d.array(key, v, "strings")
	if !ok {
		return nil
	}
	var out []Port
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			hint := ""
			if n, isInt := e.(int64); isInt {
				hint = fmt.Sprintf("write ports as strings, e.g. \"%d:%d\"", n, n)
			}
			d.failElem(key, i, hint, "expected a string like \"8080:80\", found %s", typeName(e))
			continue
		}
		p, err := parsePort(s)
		if err != nil {
			d.failSpec(key, i, err)
			continue
		}
		out = append(out, p)
		d.ports = append(d.ports, published{port: p, role: role, key: key, pos: d.pos.elem(key, i)})
	}
	return out
}

// ready decodes a readiness check: { port = N }.
func (d *projectDecoder) ready(key []string, v any) *Ready {
	m, ok := d.table(key, v, []string{"port"})
	if !ok {
		return nil
	}
	pv, ok := m["port"]
	if !ok {
		d.fail(key, "e.g. ready = { port = 8080 }", "missing port: the check waits until the port accepts connections")
		return nil
	}
	p, ok := d.port(child(key, "port"), pv)
	if !ok {
		return nil
	}
	return &Ready{Port: p}
}

// limits decodes { memory = "2GiB", cpus = 1.5, pids = 1024 }.
func (d *projectDecoder) limits(key []string, v any) Limits {
	var l Limits
	m, ok := d.table(key, v, []string{"memory", "cpus", "pids"})
	if !ok {
		return l
	}
	if v, ok := m["memory"]; ok {
		k := child(key, "memory")
		switch v := v.(type) {
		case string:
			n, err := parseMemory(v)
			if err != nil {
				d.failSpec(k, -1, err)
			}
			l.Memory = n
		case int64:
			if v < 1 {
				d.fail(k, "", "%d is not a memory size; expected at least 1 byte", v)
			}
			l.Memory = v
		default:
			d.fail(k, `e.g. memory = "2GiB"`, "expected a string like \"2GiB\", found %s", typeName(v))
		}
	}
	if v, ok := m["cpus"]; ok {
		l.CPUs = d.cpus(child(key, "cpus"), v)
	}
	if v, ok := m["pids"]; ok {
		k := child(key, "pids")
		if n, isInt := v.(int64); !isInt {
			d.fail(k, "", "expected an integer, found %s", typeName(v))
		} else if n < 1 || n > 1<<31-1 {
			d.fail(k, "", "%d is not a pids limit; expected 1 or more", n)
		} else {
			l.Pids = int(n)
		}
	}
	return l
}

// cpus decodes a CPU limit: a number of cores above 0.
func (d *decoder) cpus(key []string, v any) float64 {
	var n float64
	switch v := v.(type) {
	case float64:
		n = v
	case int64:
		n = float64(v)
	default:
		d.fail(key, "", "expected a number, found %s", typeName(v))
		return 0
	}
	if !(n > 0) || math.IsInf(n, 1) {
		d.fail(key, "", "%s is not a CPU limit; expected a number above 0", formatFloat(n))
		return 0
	}
	return n
}

// checkGlob checks a watch or ignore glob: relative to the project
// directory, without .., in path.Match syntax plus **.
func checkGlob(g string) error {
	switch {
	case strings.TrimSpace(g) == "":
		return badSpec("", "the glob is empty")
	case strings.HasPrefix(g, "/"):
		return badSpec(`e.g. "src/**/*.go"`, "%q is absolute; globs are relative to the project directory", g)
	case slices.Contains(strings.Split(g, "/"), ".."):
		return badSpec("", "%q leaves the project directory (..)", g)
	}
	if _, err := path.Match(g, ""); err != nil {
		return badSpec("", "%q is not a glob: %v", g, err)
	}
	return nil
}
