package build

import (
	"fmt"
	"strings"
)

// OfflineError is something a build needs that the store lacks, when the
// network must not be used (nook build --offline).
type OfflineError struct {
	What string // "image docker.io/library/debian:bookworm", "the layer of build step [2/3] setup: make"
}

// Error names what is missing.
func (e *OfflineError) Error() string {
	return fmt.Sprintf("offline: %s is not in the store", e.What)
}

// Hint says how to get it.
func (e *OfflineError) Hint() string {
	return "build once with the network: nook build (without --offline)"
}

// VersionError is a package installed at another version than the lock
// pins (a manager that cannot install an exact version, such as pacman),
// or one the lock does not pin at all (Want ""), or a pinned one that was
// not installed (Got "").
type VersionError struct {
	Package, Want, Got, Manager string
}

// Error names the package, the version installed and the one pinned.
func (e *VersionError) Error() string {
	switch {
	case e.Want == "":
		return fmt.Sprintf("%s installed %s %s, which %s does not pin", e.Manager, e.Package, e.Got, LockFile)
	case e.Got == "":
		return fmt.Sprintf("%s did not install %s, which %s pins at %s", e.Manager, e.Package, LockFile, e.Want)
	}
	return fmt.Sprintf("%s installed %s %s, but %s pins %s", e.Manager, e.Package, e.Got, LockFile, e.Want)
}

// Hint says how to move on.
func (e *VersionError) Hint() string {
	return "the image's repositories no longer offer what " + LockFile + " pins; `nook build --update` installs the current versions and rewrites " + LockFile
}

// ImageChangedError is a local image source (oci:, docker-archive:) that
// now holds another image than the lock pins.
type ImageChangedError struct {
	Ref, Locked, Now string
}

// Error names the image, its digest now and the one pinned.
func (e *ImageChangedError) Error() string {
	return fmt.Sprintf("image %s is now %s, but %s pins %s", e.Ref, e.Now, LockFile, e.Locked)
}

// Hint says how to follow the new image.
func (e *ImageChangedError) Hint() string {
	return "`nook build --update` builds on the new image and rewrites " + LockFile
}

// InterruptedError is a build stopped by Ctrl-C or SIGTERM in the middle of
// a step. Nothing of the step is kept; nook exits with 130, as a shell
// does after SIGINT.
type InterruptedError struct {
	Label string // the step that was running
}

// Error names the step that was interrupted.
func (e *InterruptedError) Error() string {
	return fmt.Sprintf("build step %s interrupted: nothing of it was kept", e.Label)
}

// ExitCode is the status of a command ended by SIGINT.
func (e *InterruptedError) ExitCode() int { return 130 }

// StepError is a build step that exited with a non-zero status. nook exits
// with 125 (its own error) for it.
type StepError struct {
	Label  string // "[2/4] setup: make tools"
	Status int    // the step's exit status
	Tail   string // the last lines of its output
	// Pinned is set for a packages step that asked for the versions of
	// nook.lock, which the repositories may no longer offer.
	Pinned bool
}

// Error names the step and its exit status, followed by the end of its
// output.
func (e *StepError) Error() string {
	msg := fmt.Sprintf("build step %s failed with exit status %d", e.Label, e.Status)
	if e.Tail != "" {
		msg += "; the end of its output:\n" + strings.TrimRight(e.Tail, "\n")
	}
	return msg
}

// Hint says what was kept.
func (e *StepError) Hint() string {
	h := "nothing of the failed step was kept; fix it in nook.toml and build again (the steps before it are cached)"
	if e.Pinned {
		h += "\nif the repositories no longer offer a version " + LockFile + " pins, `nook build --update` installs the current ones and rewrites " + LockFile
	}
	return h
}

// ExitCode is nook's own error status.
func (e *StepError) ExitCode() int { return 125 }

// MissingVersionError is a packages step that asked for versions the
// package repositories no longer offer.
type MissingVersionError struct {
	Label   string      // the step
	Manager string      // "apt-get"
	Missing [][2]string // each package and version not found
}

// Error names the step and each package and version.
func (e *MissingVersionError) Error() string {
	gone := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		gone[i] = m[0] + " " + m[1]
	}
	return fmt.Sprintf("build step %s: the package repositories no longer offer %s, pinned by %s", e.Label, strings.Join(gone, ", "), LockFile)
}

// Hint says how to move on.
func (e *MissingVersionError) Hint() string {
	return "`nook build --update` installs the versions the repositories offer now and rewrites " + LockFile
}

// ExitCode is nook's own error status.
func (e *MissingVersionError) ExitCode() int { return 125 }
