// Package manifests writes a workload (package workload) as Kubernetes
// manifests (k8s.io/api, sigs.k8s.io/yaml) and as a Compose file
// (compose-go). It is the body of nook-manifests, a program apart from nook:
// nook export hands it the workload (Main), so that nook's own binary does
// not link these libraries.
package manifests

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/export/workload"
	"github.com/nookenv/nook/rootless"
)

// Workload and RoleImage are the data the mappings read.
type (
	Workload  = workload.Workload
	RoleImage = workload.RoleImage
)

// roleUser is who role r runs as in img, "0" for root: its user, else on
// an image of its own the image's (whose export holds the role's user, as
// nook runs it), else root. user = "host" is you on this machine:
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
	argv, _ := r.CommandLine(nil)
	return argv
}

// imageUser is who the image runs its command as, "0" for root.
func imageUser(img RoleImage) string {
	if rootless.RootUser(img.User) {
		return "0"
	}
	return img.User
}

// envDelta is what a container of role must set over its image's config
// env to see the environment nook gives it: the values that differ, and
// "" for what the config sets that the role would not see.
func envDelta(img RoleImage, role *env.Role) [][2]string {
	want := workload.ConfigEnv(img.Base, role)
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

// hostNames are the names every role resolves under in the pod: the role
// names that are valid host names.
func hostNames(e *env.Env) []string {
	var out []string
	for _, n := range e.RoleNames() {
		if workload.DNSLabel(n) == n {
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
