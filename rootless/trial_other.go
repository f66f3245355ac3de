//go:build !linux

package rootless

// TrialName is the name (argv[0]) under which Trial's command re-executes
// nook-init.
const TrialName = "nook-trial"

// Trial starts a role in new namespaces on an overlay; only Linux has them.
func Trial(dir string) error { return errNotLinux }

// TrialMain is the body of Trial's command; only Linux has one.
func TrialMain() { Init() }
