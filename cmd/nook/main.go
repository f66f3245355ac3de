// nook starts twice per run (nook, then nook-init): skip the runtime's
// cgroup probing for GOMAXPROCS, which reads several /proc and /sys files
// at every start and matters nothing for a tool that mostly waits.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command nook runs a project's roles in rootless, daemonless, reproducible
// environments described by nook.toml.
package main

import (
	"os"
	"path/filepath"

	"github.com/nookenv/nook/rootless"
)

func main() {
	// The one place that decides whether this process is nook, nook's init
	// (re-executed by rootless.Run inside the new namespaces) or a project's
	// pod (re-executed by rootless.JoinPod).
	switch filepath.Base(os.Args[0]) {
	case "nook-init":
		rootless.Init()
	case "nook-pod":
		rootless.PodMain()
	}
	os.Exit(Main())
}
