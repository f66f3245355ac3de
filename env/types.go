package env

import "slices"

// Env is a resolved project: every default applied, every path absolute,
// every role's env, mounts and volumes merged with the top-level ones.
// It is produced by Resolve and must be treated as read-only.
type Env struct {
	File       string // absolute path of nook.toml
	ProjectDir string // directory holding nook.toml
	Project    string // project name: the project directory's base name
	ProjectID  string // stable short id of ProjectDir (hex), for volumes and run state

	Image    string   // image reference ("host", "oci:…", "docker-archive:…" or a registry ref); oci: and docker-archive: paths made absolute
	ImageRef string   // the image exactly as nook.toml writes it: what nook.lock records, so a lock holds in any clone
	Packages []string // OS packages, in declared order
	Setup    []string // setup steps, in declared order
	Workdir  string   // where the project directory is mounted (absolute, default /work)
	Hostname string   // default: sanitised project name
	Vars     []string // top-level environment, "KEY=VALUE", env_file merged under env, sorted by key
	Mounts   []Mount  // top-level extra binds
	Volumes  []Volume // top-level named volumes

	Roles map[string]*Role
}

// RoleNames returns the role names in sorted order.
func (e *Env) RoleNames() []string {
	names := make([]string, 0, len(e.Roles))
	for name := range e.Roles {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Role is one resolved role of a project.
type Role struct {
	Name      string
	Command   []string // argv; for a string command this is the string as its single element and Shell is true; nil: the image's (a role with its own image)
	Shell     bool     // command was a string: run it with /bin/sh -c
	Vars      []string // merged environment "KEY=VALUE": top-level under the role's own, sorted by key
	Workdir   string   // working directory inside (default: Env.Workdir; for a role with its own image "" is the image's WorkingDir, else Env.Workdir)
	Mounts    []Mount  // top-level then the role's own
	Volumes   []Volume // top-level then the role's own
	Ports     []Port
	Network   string // NetworkPrivate, NetworkHost or NetworkNone
	DependsOn []string
	Restart   string // RestartNo, RestartOnFailure or RestartAlways
	Ready     *Ready
	Watch     []string
	Ignore    []string
	User      string // default "root"; for a role with its own image "" is the image's user
	Tty       *bool  // nil: when stdin is a terminal
	Limits    Limits
	SSHAgent  bool // mount the host's ssh-agent socket ($SSH_AUTH_SOCK) and set SSH_AUTH_SOCK

	// Own is the role's own environment (nook.toml's image, packages and
	// setup on the role); nil when it runs in the project's. Entrypoint
	// replaces its image's entrypoint: nil keeps it, empty clears it.
	Own        *Environment
	Entrypoint []string
}

// Mount is an extra bind mount: Source is an absolute host path.
type Mount struct {
	Source   string
	Target   string
	ReadOnly bool
}

// Volume is a named persistent volume mounted at Target.
type Volume struct {
	Name     string
	Target   string
	ReadOnly bool
}

// Port is a published port: HostIP:HostPort on the host to RolePort in the role.
type Port struct {
	HostIP   string // "" means all addresses
	HostPort uint16
	RolePort uint16
	Proto    string // "tcp" or "udp"
}

// Ready is a readiness check: the role is ready once Port accepts connections.
type Ready struct {
	Port uint16
}

// Limits are resource limits; zero values mean unlimited.
type Limits struct {
	Memory int64   // bytes
	CPUs   float64 // cores
	Pids   int
}

const (
	NetworkPrivate = "private"
	NetworkHost    = "host"
	NetworkNone    = "none"

	RestartNo        = "no"
	RestartOnFailure = "on-failure"
	RestartAlways    = "always"
)
