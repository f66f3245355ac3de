package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit statuses of nook itself (SPEC §5), as with `docker run`.
const (
	exitNook          = 125 // nook's own error: bad file, failed pull, failed mount…
	exitNotExecutable = 126
	exitNotFound      = 127
)

// hinter is an error that knows how the user can fix it.
type hinter interface{ Hint() string }

// exitCoder is an error that ends nook with a status other than 125.
type exitCoder interface{ ExitCode() int }

// exitError carries a command's exit status out of a cobra RunE, with an
// optional message for nook to print first (the command printed its own).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// report prints err as `nook: error: …` with every hint found in its chain and
// returns the exit status it calls for.
func report(w io.Writer, err error) int {
	var exit exitError
	if errors.As(err, &exit) {
		if exit.msg != "" {
			fmt.Fprintf(w, "nook: error: %s\n", exit.msg)
		}
		return exit.code
	}
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintf(w, "nook: error: %s\n", line)
	}
	for _, h := range hints(err) {
		for _, line := range strings.Split(h, "\n") {
			fmt.Fprintf(w, "nook: hint: %s\n", line)
		}
	}
	var coder exitCoder
	if errors.As(err, &coder) && coder.ExitCode() != 0 {
		return coder.ExitCode()
	}
	return exitNook
}

// hints collects the distinct hints of err's tree, outermost first.
func hints(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if h, ok := err.(hinter); ok && h.Hint() != "" && !seen[h.Hint()] {
			seen[h.Hint()] = true
			out = append(out, h.Hint())
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// usageError is a mistake on the command line.
type usageError struct {
	msg  string
	hint string
}

func (e usageError) Error() string { return e.msg }
func (e usageError) Hint() string  { return e.hint }

// hintedError gives err a hint it does not carry itself.
type hintedError struct {
	err  error
	hint string
}

func (e hintedError) Error() string { return e.err.Error() }
func (e hintedError) Unwrap() error { return e.err }
func (e hintedError) Hint() string  { return e.hint }
