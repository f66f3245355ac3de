package rootless

import (
	"os"
	"time"

	"github.com/nookenv/nook/cgroups"
	"github.com/nookenv/nook/mounts"
)

// DefaultStopTimeout is how long Run waits, after the context is cancelled
// and the command was sent SIGTERM, before it kills the command.
const DefaultStopTimeout = 10 * time.Second

// Spec is everything the init process needs to start a role. The parent
// sends it to nook-init as JSON; nothing in it requires a lookup on the
// host once it is built.
type Spec struct {
	Plan     *mounts.Plan `json:"plan"` // nil: no mounts, the command runs on the host's root (tests)
	Process  Process      `json:"process"`
	Hostname string       `json:"hostname"`
	NewNet   bool         `json:"newNet"` // new network namespace with loopback up (network "private" or "none"); Pod.Run: the pod's
	// Outbound, with NewNet, gives Run's new network namespace outbound
	// traffic through slirp4netns (the host's loopback unreachable, DNS
	// on 10.0.2.3: OutboundResolvConf), set up before the command starts;
	// Run fails when slirp4netns cannot (OutboundUnavailable says why
	// beforehand). Build steps use it; the pod has its own.
	Outbound bool   `json:"-"`
	Role     string `json:"role,omitempty"` // the role's name, recorded in the pod's state (pod.json) for ps

	// FakeOwnership installs, just before the command is exec'd, a seccomp
	// filter that answers the chown family (chown, fchown, lchown,
	// fchownat), setuid, setgid, setreuid, setregid, setresuid, setresgid,
	// setfsuid, setfsgid, setgroups, capset and mknod/mknodat of character
	// and block devices with success without doing them, as Charliecloud's
	// --seccomp does. Build steps set it under the single-id map, so that
	// package managers work without subordinate ids.
	FakeOwnership bool `json:"fakeOwnership,omitempty"`
	// IDMap is the user namespace's id map: IDMapSingle (you outside are
	// root inside, nothing else is mapped) or IDMapFull (0 is you, 1…N
	// your subordinate range from /etc/subuid and /etc/subgid, written by
	// newuidmap and newgidmap).
	IDMap IDMap `json:"idMap,omitempty"`

	// Limits are the role's resource limits. When set, Run and Pod.Run
	// make the run a cgroup of its own with them (cgroups.Host.Create,
	// under the cgroup delegated to the user), move nook-init into it
	// before it starts the command, and remove it when the role has ended;
	// a command the OOM killer killed there ends the run with an
	// *OOMError. Limits the machine cannot apply must be left out by the
	// caller (cgroups.Host.Usable), who says so. The parent alone uses it.
	Limits cgroups.Limits `json:"-"`

	// StopTimeout is the grace period between SIGTERM and SIGKILL when
	// Run's context is cancelled; zero means DefaultStopTimeout. The
	// parent alone uses it.
	StopTimeout time.Duration `json:"-"`
	// Started, when set, is called once, when nook-init reports that the
	// command runs. The parent alone uses it.
	Started func() `json:"-"`
}

// Process is the command to run inside the new root.
type Process struct {
	Args  []string `json:"args"`  // argv; Args[0] is looked up in the PATH of Env inside the new root
	Env   []string `json:"env"`   // complete environment, "KEY=VALUE"
	Cwd   string   `json:"cwd"`   // working directory inside the new root
	Tty   bool     `json:"tty"`   // allocate a pseudo-terminal inside and proxy the caller's terminal to it
	Shell bool     `json:"shell"` // a shell: bash if the root has it, else sh; interactive (-i) with Tty (Args is ignored)
	// User is who the command runs as: "" (root inside, you outside),
	// NAME, UID, NAME:GROUP or UID:GID, looked up in the new root's
	// /etc/passwd and /etc/group (anyone but root needs the full id map),
	// or HostUser: you, with your own ids, under either map.
	User string `json:"user,omitempty"`
}

// Stdio are the caller's standard streams, handed to nook-init as its own
// descriptors 0, 1 and 2. A nil file is /dev/null.
type Stdio struct{ In, Out, Err *os.File }

// IDMap is how the user namespace maps ids: see Spec.IDMap.
type IDMap string

const (
	// IDMapSingle maps one id: the invoking user (and group) is root
	// inside; every other id is unmapped. No setuid helper is involved.
	IDMapSingle IDMap = ""
	// IDMapFull maps 0 to the invoking user and 1…N to the user's first
	// subordinate range (see SubIDs), through newuidmap and newgidmap.
	IDMapFull IDMap = "full"
)

// IDRange is a range of Count ids starting at Start, as /etc/subuid and
// /etc/subgid give them.
type IDRange struct{ Start, Count int }
