package env

import (
	"fmt"
	"strings"
)

// DefaultPath is the PATH a process gets when neither the image nor
// nook.toml sets one.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ProcessEnv is the environment, as KEY=VALUE, of a process nook starts in
// the environment: a role's command or a build step. It merges, lowest
// first: PATH (DefaultPath) and HOME (/root), the image's environment,
// HOSTNAME, extra (a package manager's settings, a terminal's TERM), then
// vars (nook.toml's env; for a role, its own merged over the top-level
// one). A later value of a key replaces an earlier one and keeps the key's
// first place.
func ProcessEnv(image []string, hostname string, extra, vars []string) []string {
	values := map[string]string{}
	var order []string
	set := func(kv string) {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := values[k]; !ok {
			order = append(order, k)
		}
		values[k] = v
	}
	set("PATH=" + DefaultPath)
	set("HOME=/root")
	for _, list := range [][]string{image, {"HOSTNAME=" + hostname}, extra, vars} {
		for _, kv := range list {
			set(kv)
		}
	}
	out := make([]string, len(order))
	for i, k := range order {
		out[i] = k + "=" + values[k]
	}
	return out
}

// CommandLineVars turns the values of -e flags into KEY=VALUE pairs, as
// `docker run -e` takes them: KEY=VALUE as it is, KEY alone with the
// host's value (looked up with lookup; an unset KEY is left out).
func CommandLineVars(flags []string, lookup func(string) (string, bool)) ([]string, error) {
	var out []string
	for _, f := range flags {
		key, value, hasValue := strings.Cut(f, "=")
		if !validEnvName(key) {
			return nil, &specError{hint: "write -e KEY=VALUE, or -e KEY for the value KEY has here",
				msg: fmt.Sprintf("-e %q: %q is not an environment variable name", f, key)}
		}
		if !hasValue {
			var ok bool
			if value, ok = lookup(key); !ok {
				continue
			}
		}
		if strings.ContainsRune(value, 0) {
			return nil, &specError{msg: fmt.Sprintf("-e %s: the value must not contain a NUL character", key)}
		}
		out = append(out, key+"="+value)
	}
	return out, nil
}
