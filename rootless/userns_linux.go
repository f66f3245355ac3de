package rootless

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// startNamespaced starts cmd, a re-execution of nook in new namespaces.
// When they include a user namespace, a refusal that looks like the
// kernel's is a usernsError, with its hint.
func startNamespaced(cmd *exec.Cmd) error {
	err := cmd.Start()
	if err == nil {
		return nil
	}
	if cmd.SysProcAttr.Cloneflags&syscall.CLONE_NEWUSER != 0 {
		if uerr := newUsernsError(err); uerr != nil {
			return uerr
		}
	}
	return fmt.Errorf("starting %s: %w", cmd.Args[0], err)
}

// usernsError is the kernel refusing nook-init's new namespaces, which for
// an unprivileged user almost always means the user namespace.
type usernsError struct {
	err  error
	hint string
}

// newUsernsError wraps err, a failure to start nook-init, when it looks
// like the kernel refused the user namespace; it returns nil otherwise.
// Only then does it read the sysctls that explain why.
func newUsernsError(err error) error {
	for _, errno := range []syscall.Errno{syscall.EPERM, syscall.EACCES, syscall.ENOSPC} {
		if errors.Is(err, errno) {
			return &usernsError{err: err, hint: usernsHint("/proc/sys", errno)}
		}
	}
	return nil
}

func (e *usernsError) Error() string {
	return fmt.Sprintf("creating user, mount, pid, uts and ipc namespaces for nook-init: %v", e.err)
}

func (e *usernsError) Unwrap() error { return e.err }

// Hint says which setting refuses unprivileged user namespaces and how to
// change it.
func (e *usernsError) Hint() string { return e.hint }

// usernsHint reads the sysctls under procSys (normally /proc/sys) that can
// forbid unprivileged user namespaces and says how to lift each one that
// does. errno is what the kernel answered.
func usernsHint(procSys string, errno syscall.Errno) string {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(procSys, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	var fixes []string
	if read("kernel/apparmor_restrict_unprivileged_userns") == "1" {
		fixes = append(fixes,
			"AppArmor restricts unprivileged user namespaces (Ubuntu 23.10 and later): allow them with",
			"  sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0",
			"(persist it in /etc/sysctl.d/), or install an AppArmor profile for nook that allows \"userns,\"")
	}
	if read("kernel/unprivileged_userns_clone") == "0" {
		fixes = append(fixes,
			"unprivileged user namespaces are disabled: enable them with",
			"  sudo sysctl kernel.unprivileged_userns_clone=1")
	}
	switch max := read("user/max_user_namespaces"); {
	case max == "0":
		fixes = append(fixes,
			"user namespaces are disabled (user.max_user_namespaces=0): enable them with",
			"  sudo sysctl user.max_user_namespaces=28633")
	case errno == syscall.ENOSPC && max != "":
		fixes = append(fixes,
			fmt.Sprintf("the limit on user namespaces is reached (user.max_user_namespaces=%s): raise it with sysctl", max))
	}
	if len(fixes) == 0 {
		fixes = append(fixes,
			"the kernel or a security policy refuses unprivileged user namespaces (inside a container,",
			"its seccomp profile may forbid them); `nook doctor` checks the machine")
	}
	return strings.Join(fixes, "\n")
}
