// Command nook runs a project's roles in rootless, daemonless, reproducible
// environments described by nook.toml.
package main

import (
	"os"
	"path/filepath"

	"github.com/nookenv/nook/rootless"
)

func main() {
	// The one place that decides whether this process is nook or nook's init,
	// re-executed by rootless.Run inside the new namespaces.
	if filepath.Base(os.Args[0]) == "nook-init" {
		rootless.Init()
	}
	os.Exit(Main())
}
