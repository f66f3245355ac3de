// nook-init starts at every `nook run`: skip the runtime's cgroup-based
// GOMAXPROCS (and its updates), which matter nothing for a process that
// mostly waits.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command nook-init is the part of nook that runs inside a role's
// namespaces: each role's pid 1 (it applies the mount plan, starts the
// command, forwards signals, reaps) and each project's pod (nook-pod: the
// network namespace roles share, slirp4netns, published ports). nook
// starts it; it is not a command of its own. It is a program apart from
// nook so that it links only that (rootless and mounts), and a role's start
// pays for starting a small binary; nook looks for it beside itself, so
// install the two together (`go install github.com/nookenv/nook/cmd/...`).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nookenv/nook/rootless"
)

func main() {
	// Its name says what it is: a role's init, a pod, or the command of
	// nook doctor's trial run (nook-init re-executed from inside the role's
	// root through /proc/self/exe).
	switch filepath.Base(os.Args[0]) {
	case rootless.InitName:
		rootless.Init()
	case rootless.PodName:
		rootless.PodMain()
	case rootless.TrialName:
		rootless.TrialMain()
	}
	fmt.Fprintf(os.Stderr, "%s: nook starts this program inside a role's namespaces; it is not a command of its own (run nook)\n", filepath.Base(os.Args[0]))
	os.Exit(2)
}
