package rootless

import (
	"fmt"

	"github.com/nookenv/nook/cgroups"
)

// OOMError says that the kernel's OOM killer killed a role's command
// because the role reached its memory limit.
type OOMError struct {
	Role   string // "" for an ad-hoc command
	Limit  int64  // the role's memory limit in bytes
	Status int    // the run's exit status: 137
}

func (e *OOMError) Error() string {
	who := "the command"
	if e.Role != "" {
		who = "role " + e.Role
	}
	return fmt.Sprintf("%s was killed: out of memory (limit %s)", who, cgroups.FormatBytes(e.Limit))
}

// ExitCode is the run's status, as a command killed by SIGKILL has it.
func (e *OOMError) ExitCode() int { return e.Status }

// Hint says how to give the role more memory.
func (e *OOMError) Hint() string {
	return fmt.Sprintf("raise the role's limits.memory in nook.toml (now %s)", cgroups.FormatBytes(e.Limit))
}
