package rootless

import (
	"encoding/json"
	"errors"
	"io"
)

// The descriptors nook-init inherits from Run besides stdio.
const (
	specFd   = 3 // parent → init: the Spec as JSON, then EOF
	statusFd = 4 // init → parent: one startMessage, then EOF
)

// Exit statuses of nook's own failures, as with `docker run`.
const (
	exitNook          = 125
	exitNotExecutable = 126
	exitNotFound      = 127
)

// startMessage is what nook-init reports on its status pipe before it
// closes it: either the command started, or it could not be started and
// why. The pipe is close-on-exec, so the command never holds it.
type startMessage struct {
	Started bool   `json:"started,omitempty"`
	Code    int    `json:"code,omitempty"` // 125, 126 or 127 when the command did not start
	Message string `json:"message,omitempty"`
	Hint    string `json:"hint,omitempty"`
}

// failure is the message reporting err: its exit code (ExitCode, else 125)
// and hint travel with it.
func failure(err error) startMessage {
	m := startMessage{Code: exitNook, Message: err.Error()}
	var coder interface{ ExitCode() int }
	if errors.As(err, &coder) && coder.ExitCode() != 0 {
		m.Code = coder.ExitCode()
	}
	var hinter interface{ Hint() string }
	if errors.As(err, &hinter) {
		m.Hint = hinter.Hint()
	}
	return m
}

// readStartMessage reads the status pipe to its end. A pipe closed without
// a message (the init died before reporting) yields the zero message.
func readStartMessage(r io.Reader) (startMessage, error) {
	var m startMessage
	b, err := io.ReadAll(r)
	if err != nil || len(b) == 0 {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

// StartError is a failure to start the command inside the namespaces,
// reported by nook-init: a mount that failed, a command not found (127) or
// not executable (126).
type StartError struct {
	code int
	msg  string
	hint string
}

func (e *StartError) Error() string { return e.msg }

// ExitCode is the status nook should end with: 125, 126 or 127.
func (e *StartError) ExitCode() int { return e.code }

// Hint says how to fix the failure, or is empty.
func (e *StartError) Hint() string { return e.hint }
