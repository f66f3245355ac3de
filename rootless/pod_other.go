//go:build !linux

package rootless

import (
	"context"
	"fmt"
	"os"
)

// JoinPod connects to the project's pod or starts one; only Linux has pods.
func JoinPod(o PodOptions) (*Pod, error) { return nil, errNotLinux }

// Run starts spec in the pod; only Linux has pods.
func (p *Pod) Run(ctx context.Context, spec *Spec, stdio Stdio, ports []Port) (int, error) {
	return exitNook, errNotLinux
}

// PodMain is the body of the re-executed "nook-pod" process; only Linux
// has one. It never returns.
func PodMain() {
	fmt.Fprintln(os.Stderr, "nook-pod:", errNotLinux)
	os.Exit(exitNook)
}

// CheckPorts checks host ports before a role publishes them; only Linux
// publishes ports.
func CheckPorts(ports []Port, runDir string) error { return errNotLinux }
