// Package workload is what nook export describes in Kubernetes and Compose
// files, as plain data: the roles `nook up` starts, the other one-shot
// roles, and the image each role runs in. nook export (package export)
// makes it; nook-manifests (package manifests, a program of its own)
// writes the files from it. The manifests' libraries (k8s.io/api,
// compose-go) stay out of nook's own binary that way: every start of nook
// would run their initialisers.
package workload

import (
	"slices"
	"strings"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/internal/companion"
)

// Kinds of workload the Kubernetes manifests hold (nook export --k8s-kind).
const (
	KindPod        = "pod"
	KindDeployment = "deployment"
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

// Role is the workload's role n.
func (w *Workload) Role(n string) *env.Role { return w.Env.Roles[n] }

// Dependencies are the roles n depends on, directly or not, in start order.
func (w *Workload) Dependencies(n string) []string {
	var out []string
	var add func(string)
	add = func(r string) {
		for _, d := range w.Role(r).DependsOn {
			if !slices.Contains(out, d) {
				add(d)
				out = append(out, d)
			}
		}
	}
	add(n)
	return out
}

// ConfigEnv is role's environment as nook gives it (env.ProcessEnv) over
// the image's, without HOSTNAME, which a container runtime sets.
func ConfigEnv(image []string, role *env.Role) []string {
	out := env.ProcessEnv(image, "", nil, role.Vars)
	return slices.DeleteFunc(out, func(kv string) bool { return strings.HasPrefix(kv, "HOSTNAME=") })
}

// DNSLabel turns s into an RFC 1123 label, as Kubernetes names and
// container names must be: lower case, letters, digits and '-', at most
// 63 characters, starting and ending with a letter or digit. Runs of
// anything else, '-' included, become one '-'.
func DNSLabel(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range strings.ToLower(s) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			b = append(b, byte(r))
		case len(b) > 0 && b[len(b)-1] != '-':
			b = append(b, '-')
		}
	}
	s = strings.Trim(string(b), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		return "nook"
	}
	return s
}

// ManifestsName is the name of nook-manifests, the companion program
// (cmd/nook-manifests) that writes the files, found beside nook.
const ManifestsName = "nook-manifests"

// The files nook-manifests writes (Request.Format).
const (
	FormatKubernetes = "k8s"
	FormatCompose    = "compose"
)

// Request is what nook export asks nook-manifests, as JSON on its stdin:
// one file.
type Request struct {
	Format   string    // FormatKubernetes or FormatCompose
	Kind     string    // of FormatKubernetes: KindPod or KindDeployment
	Path     string    // of FormatCompose: where the file goes, absolute (mount sources are relative to it)
	Workload *Workload // what the file describes
}

// Reply is nook-manifests' answer, as JSON on its stdout.
type Reply struct {
	File     []byte   // the file's content
	Warnings []string // what did not carry over
	Error    string   // why there is no file
	Hint     string   // how to fix that, when known
}

// BuildID is the build id nook hands nook-manifests (companion.BuildID):
// the shapes of Request and Reply are part of it (ProtocolDigest).
func BuildID() string { return companion.BuildID(ProtocolDigest) }

// ProtocolDigest is companion.Digest(Request{}, Reply{}), which a test
// checks: change it with the messages.
const ProtocolDigest = "2sa16iuq5jgbq"
