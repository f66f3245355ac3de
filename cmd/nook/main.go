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

	"github.com/nookenv/nook/export"
	"github.com/nookenv/nook/rootless"
)

func main() {
	// The one place that decides whether this process is nook or nook
	// re-executed: nook's init (rootless.Run, inside the new namespaces), a
	// project's pod (rootless.JoinPod), the removal of a tree owned by
	// subordinate ids (rootless.RemoveAll), the command of nook doctor's
	// trial run (rootless.Trial), or the reading of a layer as the role
	// sees it (export).
	switch filepath.Base(os.Args[0]) {
	case "nook-init":
		rootless.Init()
	case "nook-pod":
		rootless.PodMain()
	case rootless.RemoveName:
		rootless.RemoveMain()
	case rootless.TrialName:
		rootless.TrialMain()
	case export.LayerTarName:
		export.LayerTarMain()
	}
	os.Exit(Main())
}
