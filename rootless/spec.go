package rootless

import (
	"os"
	"time"

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
	NewNet   bool         `json:"newNet"`         // new network namespace with loopback up (network "private" or "none"); Pod.Run: the pod's
	Role     string       `json:"role,omitempty"` // the role's name, recorded in the pod's state (pod.json) for ps

	// NetNS, when set, is the descriptor number (in nook-init) of the
	// pod's network namespace: nook-init joins it before it starts the
	// command. Set by the pod process, never by callers.
	NetNS int `json:"netns,omitempty"`

	// StopTimeout is the grace period between SIGTERM and SIGKILL when
	// Run's context is cancelled; zero means DefaultStopTimeout. The
	// parent alone uses it.
	StopTimeout time.Duration `json:"-"`
}

// Process is the command to run inside the new root.
type Process struct {
	Args  []string `json:"args"`  // argv; Args[0] is looked up in the PATH of Env inside the new root
	Env   []string `json:"env"`   // complete environment, "KEY=VALUE"
	Cwd   string   `json:"cwd"`   // working directory inside the new root
	Tty   bool     `json:"tty"`   // allocate a pseudo-terminal inside and proxy the caller's terminal to it
	Shell bool     `json:"shell"` // a shell: bash if the root has it, else sh; interactive (-i) with Tty (Args is ignored)
}

// Stdio are the caller's standard streams, handed to nook-init as its own
// descriptors 0, 1 and 2. A nil file is /dev/null.
type Stdio struct{ In, Out, Err *os.File }
