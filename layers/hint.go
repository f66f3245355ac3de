package layers

import (
	"errors"
	"fmt"
)

// ErrNotPulled means the store has no record of the reference for this
// platform (never pulled, or a local oci:/docker-archive: source changed since
// it was imported). Store.Pull fetches it.
var ErrNotPulled = errors.New("image not pulled")

// hintError is an error with a known fix: the CLI prints Hint() as
// "nook: hint: …" after the error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// Hint says how to fix the error.
func (e *hintError) Hint() string { return e.hint }

// notPulled is ErrNotPulled for ref, with the hint for a user who is offline.
func notPulled(ref, why string) error {
	return &hintError{
		err:  fmt.Errorf("image %s: %w (%s)", ref, ErrNotPulled, why),
		hint: "nook pulls it when the registry is reachable; for offline use, save the image once (docker save, skopeo copy) and use docker-archive:PATH or oci:PATH",
	}
}
