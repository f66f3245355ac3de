//go:build !linux

package rootless

import (
	"context"
	"fmt"
	"os"
	"runtime"
)

var errNotLinux = fmt.Errorf("running a role needs Linux namespaces; this is %s", runtime.GOOS)

// Run starts spec in new namespaces and waits for it; only Linux has them.
func Run(ctx context.Context, spec *Spec, stdio Stdio) (int, error) {
	return exitNook, errNotLinux
}

// Init is the body of the re-executed "nook-init" process; only Linux has
// one. It never returns.
func Init() {
	fmt.Fprintln(os.Stderr, "nook-init:", errNotLinux)
	os.Exit(exitNook)
}
