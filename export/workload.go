package export

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/project"
	"github.com/nookenv/nook/rootless"
)

// Workload is what the Kubernetes manifests and the Compose file describe:
// the roles `nook up` starts, the other one-shot roles, and the image each
// role runs. It is plain data, so that the mappings are tested without a
// store.
type Workload struct {
	Env  *env.Env
	Up   []string // the roles nook up starts, every role after those it depends on
	Jobs []string // the one-shot roles outside Up (tests and the like), run on request
	// Images is the image of each role of Up and Jobs: the export of the
	// environment the role runs in.
	Images map[string]RoleImage
}

// RoleImage is the image a role runs in.
type RoleImage struct {
	Name string // its reference, as manifests name it
	// Env is the image config's environment; Base the environment of the
	// base image under it, which a role's own environment starts from
	// (env.ProcessEnv).
	Env, Base []string
	// Entrypoint is the image config's entrypoint: a role's command
	// replaces it, as nook runs the command itself.
	Entrypoint []string
	// User is the image config's user ("" or "0": root).
	User string
}

// roleUser is who role r runs as in img, "0" for root: its user, else on
// an image of its own the image's (whose export holds the role's user,
// project.RoleProcess), else root. user = "host" is you on this machine:
// elsewhere it is root (hostUserWarning).
func roleUser(r *env.Role, img RoleImage) string {
	switch {
	case r.Own != nil && r.User == "":
		return imageUser(img)
	case rootless.RootUser(r.User) || r.User == rootless.HostUser:
		return "0"
	}
	return r.User
}

// hostUserWarning says, for a role with user = "host", that it runs as
// root where the export runs; "" for other roles.
func hostUserWarning(r *env.Role) string {
	if r.User != rootless.HostUser {
		return ""
	}
	return fmt.Sprintf(`role %s: user = "host" (you, on this machine) runs as root in the export`, r.Name)
}

// roleCommand is the argv role r's container runs instead of its image's
// entrypoint and cmd, nil when it runs the image's own. A role in the
// project's environment shares the project's image (made with another
// role's command, and no entrypoint, as nook runs a command): it runs its
// command. A role on an image of its own has that image to itself,
// exported with the role's process (project.RoleProcess): the image's.
func roleCommand(r *env.Role) []string {
	if r.Own != nil || len(r.Command) == 0 {
		return nil
	}
	proc, _ := project.RoleProcess(&env.Env{}, r, layers.ImageConfig{}, nil) // a role of the project's environment has a command
	return proc.Args
}

// imageUser is who the image runs its command as, "0" for root.
func imageUser(img RoleImage) string {
	if rootless.RootUser(img.User) {
		return "0"
	}
	return img.User
}

// role is a role of the workload.
func (w *Workload) role(n string) *env.Role { return w.Env.Roles[n] }

// dependencies are the roles n depends on, directly or not, in start order.
func (w *Workload) dependencies(n string) []string {
	var out []string
	var add func(string)
	add = func(r string) {
		for _, d := range w.role(r).DependsOn {
			if !slices.Contains(out, d) {
				add(d)
				out = append(out, d)
			}
		}
	}
	add(n)
	return out
}

// longRunning says whether a role serves (ports or a restart policy) rather
// than runs to completion, as project.LongRunning does.
func longRunning(r *env.Role) bool {
	return len(r.Ports) > 0 || (r.Restart != "" && r.Restart != env.RestartNo)
}

// envDelta is what a container of role must set over its image's config
// env to see the environment nook gives it: the values that differ, and
// "" for what the config sets that the role would not see.
func envDelta(img RoleImage, role *env.Role) [][2]string {
	want := configEnv(img.Base, role)
	have := map[string]string{}
	for _, kv := range img.Env {
		k, v, _ := strings.Cut(kv, "=")
		have[k] = v
	}
	var out [][2]string
	seen := map[string]bool{}
	for _, kv := range want {
		k, v, _ := strings.Cut(kv, "=")
		seen[k] = true
		if hv, ok := have[k]; !ok || hv != v {
			out = append(out, [2]string{k, v})
		}
	}
	for _, kv := range img.Env {
		k, _, _ := strings.Cut(kv, "=")
		if !seen[k] {
			out = append(out, [2]string{k, ""})
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

var notDNS = regexp.MustCompile(`[^a-z0-9]+`)

// dnsLabel turns s into an RFC 1123 label, as Kubernetes names and
// container names must be: lower case, letters, digits and '-', at most
// 63 characters, starting and ending with a letter or digit.
func dnsLabel(s string) string {
	s = notDNS.ReplaceAllString(strings.ToLower(s), "-") // runs of anything else, '-' included, become one '-'

	s = strings.Trim(s, "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		return "nook"
	}
	return s
}

// hostNames are the names every role resolves under in the pod: the role
// names that are valid host names.
func hostNames(e *env.Env) []string {
	var out []string
	for _, n := range e.RoleNames() {
		if dnsLabel(n) == n {
			out = append(out, n)
		}
	}
	return out
}

// mountSource is a bind mount's source as a file beside the project (at
// base) names it: relative when it lies in the project directory.
func mountSource(e *env.Env, base string, m env.Mount) string {
	if rel, err := filepath.Rel(e.ProjectDir, m.Source); err == nil && !strings.HasPrefix(rel, "..") {
		if r, err := filepath.Rel(base, m.Source); err == nil {
			if !strings.HasPrefix(r, "..") {
				return "./" + filepath.ToSlash(r)
			}
			return filepath.ToSlash(r)
		}
	}
	return m.Source
}

// fileHeader is the comment that opens a written manifest.
func fileHeader(e *env.Env, run string) string {
	return fmt.Sprintf("# Written by nook export from %s.\n# %s\n", filepath.Base(e.File), run)
}
