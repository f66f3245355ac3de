// nook starts at every command, and nook-init after it at every run: skip
// the runtime's cgroup-based GOMAXPROCS (and its updates), which matter
// nothing for a tool that mostly waits.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command nook runs a project's roles in rootless, daemonless, reproducible
// environments described by nook.toml. Inside a role's namespaces they run
// under nook-init (cmd/nook-init), a program of its own installed beside
// nook.
package main

import (
	"os"
	"path/filepath"

	"github.com/nookenv/nook/export"
	"github.com/nookenv/nook/rootless"
)

func main() {
	// The one place that decides whether this process is nook or nook
	// re-executed: the removal of a tree owned by subordinate ids
	// (rootless.RemoveAll), or the reading of a layer as the role sees it
	// (export). A role's init and a project's pod are nook-init.
	switch filepath.Base(os.Args[0]) {
	case rootless.RemoveName:
		rootless.RemoveMain()
	case export.LayerTarName:
		export.LayerTarMain()
	}
	os.Exit(Main())
}
