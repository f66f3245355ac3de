//go:build !linux

package rootless

import (
	"io"
	"os"
	"os/exec"
)

// RemoveName is the name under which RemoveAll re-executes nook on Linux.
const RemoveName = "nook-rm"

// SubIDs returns the user's subordinate id ranges; only Linux maps them.
func SubIDs() (uid, gid IDRange, err error) { return IDRange{}, IDRange{}, errNotLinux }

// RemoveAll removes path; without user namespaces it is os.RemoveAll.
func RemoveAll(path string) error { return os.RemoveAll(path) }

// AwaitIDMap waits for a full id map; only Linux has them, so it returns.
func AwaitIDMap() {}

// RemoveMain is the body of nook re-executed as RemoveName, which only
// happens on Linux. It never returns.
func RemoveMain() { Init() }

// StartWithFullMap starts cmd with the full id map; only Linux has one.
func StartWithFullMap(cmd *exec.Cmd) (io.Closer, error) { return nil, errNotLinux }

// StartAsRoot starts cmd as root of a user namespace; only Linux has them.
func StartAsRoot(cmd *exec.Cmd) (io.Closer, error) { return nil, errNotLinux }
