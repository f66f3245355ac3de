package rootless

import "github.com/nookenv/nook/mounts"

// Spec is everything the init process needs to start a role. The parent
// sends it to nook-init as JSON; nothing in it requires a lookup on the
// host once it is built.
type Spec struct {
	Plan     *mounts.Plan `json:"plan"`
	Process  Process      `json:"process"`
	Hostname string       `json:"hostname"`
	NewNet   bool         `json:"newNet"` // new network namespace with loopback up (network "private" or "none")
}

// Process is the command to run inside the new root.
type Process struct {
	Args  []string `json:"args"`  // argv; Args[0] is looked up in the PATH of Env inside the new root
	Env   []string `json:"env"`   // complete environment, "KEY=VALUE"
	Cwd   string   `json:"cwd"`   // working directory inside the new root
	Tty   bool     `json:"tty"`   // allocate a pseudo-terminal inside and proxy the caller's terminal to it
	Shell bool     `json:"shell"` // interactive shell: run bash if the root has it, else sh (Args is ignored)
}
