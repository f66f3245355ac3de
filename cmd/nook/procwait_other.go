//go:build !linux

package main

import (
	"fmt"
	"time"

	"github.com/nookenv/nook/runstate"
)

// terminate stops the process o names; only Linux runs roles.
func terminate(o runstate.Owner, grace time.Duration) error {
	return fmt.Errorf("stopping process %d: nook runs roles on Linux only", o.Pid)
}

// waitEnd waits for the process o names to end; only Linux runs roles.
func waitEnd(o runstate.Owner, limit time.Duration) error {
	return fmt.Errorf("waiting for process %d: nook runs roles on Linux only", o.Pid)
}
