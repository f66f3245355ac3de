package doctor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nookenv/nook/rootless"
)

// checkNamespaces checks unprivileged user namespaces (the sysctls that
// can forbid them) and runs the trial, which tells whether they, an
// overlay and a pid namespace really work: a restriction that an AppArmor
// profile lifts for nook does not bite.
func checkNamespaces(m *Machine) (userns, trial Result) {
	procSys := m.path("proc/sys")
	took, err := runTrial(m)
	var errno syscall.Errno
	errors.As(err, &errno)
	refusals := rootless.UsernsRefusals(procSys, errno, m.Exe)

	userns = Result{Name: "user namespaces", Status: OK}
	switch {
	case len(refusals) == 0:
		userns.Summary = "unprivileged user namespaces are allowed"
		if b, err := os.ReadFile(filepath.Join(procSys, "user/max_user_namespaces")); err == nil {
			userns.Summary += fmt.Sprintf(" (user.max_user_namespaces = %s)", strings.TrimSpace(string(b)))
		}
	case err == nil && m.Trial != nil:
		userns.Summary = problems(refusals) + "; yet nook gets them (the trial run worked: an AppArmor profile for nook?)"
	default:
		userns.Status, userns.Summary = Fail, problems(refusals)
		userns = userns.fixedBy(refusals...)
	}

	trial = Result{Name: "trial run", Status: OK}
	switch {
	case m.Trial == nil:
		trial.Status, trial.Summary = Warn, "not run"
	case err == nil:
		trial.Summary = fmt.Sprintf("a role ran through nook-init: user, mount, pid and network namespaces, an overlay with userxattr that takes a whiteout (%v)",
			took.Round(time.Millisecond))
	default:
		trial.Status = Fail
		first, rest := firstLine(err.Error())
		trial.Summary = "a role cannot run: " + first
		trial.Or = append(rest, hintLines(err)...)
		if len(refusals) > 0 {
			trial.Or = []string{"lift the user namespace restriction above first"}
		} else if !overlayKnown(m) {
			trial.Fix = []string{"sudo modprobe overlay"}
			trial.Keep = []string{"echo overlay | sudo tee /etc/modules-load.d/nook-overlay.conf"}
		}
	}
	return userns, trial
}

// runTrial runs m.Trial in a directory of its own on the store's file
// system (so that the overlay's lower layer is where nook's layers are),
// else in the temporary directory, and removes it after.
func runTrial(m *Machine) (time.Duration, error) {
	if m.Trial == nil {
		return 0, nil
	}
	parent := ""
	if s := openStore(m); s != nil { // checked as every command checks it
		parent = filepath.Join(s.Root(), "tmp")
	}
	dir, err := os.MkdirTemp(parent, "nook-doctor-")
	if err != nil {
		return 0, fmt.Errorf("making the trial's directory: %w", err)
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	err = m.Trial(dir)
	return time.Since(start), err
}

// overlayKnown reports whether the kernel lists the overlay file system
// (its module loaded, or built in).
func overlayKnown(m *Machine) bool {
	b, err := os.ReadFile(m.path("proc/filesystems"))
	if err != nil {
		return true // nothing to go by
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "overlay" {
			return true
		}
	}
	return false
}
