package rootless

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// startNamespaced starts cmd, nook-init or a re-execution of nook, in new
// namespaces. A nook-init that is missing or cannot be executed is said to
// be; when the namespaces include a user namespace, a refusal that looks
// like the kernel's is a usernsError, with its hint.
func startNamespaced(cmd *exec.Cmd) error {
	err := cmd.Start()
	if err == nil {
		return nil
	}
	if ierr := initStartError(cmd.Path, err); ierr != nil {
		return ierr
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
	exe, _ := os.Executable()
	refusals := UsernsRefusals(procSys, errno, exe)
	if len(refusals) == 0 {
		return "the kernel or a security policy refuses unprivileged user namespaces (inside a container,\n" +
			"its seccomp profile may forbid them); `nook doctor` checks the machine"
	}
	hints := make([]string, len(refusals))
	for i, r := range refusals {
		hints[i] = r.Hint()
	}
	return strings.Join(hints, "\n")
}
