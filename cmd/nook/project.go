package main

import (
	"fmt"
	"os"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/project"
)

// openProject opens the project that -C and --file name (project.Open),
// printing what it says along the way as report does.
func openProject(g *globals) (*project.Project, error) {
	p, err := project.Open(g.dir, g.file)
	if err != nil {
		return nil, err
	}
	p.Printer = stderrPrinter{}
	return p, nil
}

// loadEnv finds, validates and resolves the project's nook.toml.
func loadEnv(g *globals) (*env.Env, error) {
	p, err := openProject(g)
	if err != nil {
		return nil, err
	}
	return p.Env, nil
}

// stderrPrinter prints a project's lines and errors on stderr, one at a
// time (sayMu), errors with their hints.
type stderrPrinter struct{}

func (stderrPrinter) Line(s string) {
	sayMu.Lock()
	defer sayMu.Unlock()
	fmt.Fprintln(os.Stderr, s)
}

func (stderrPrinter) Error(err error) { printError(err) }

// exitStatus turns a role's status, as project.Start returns it, into a
// command's error: a non-zero status becomes nook's own.
func exitStatus(code int, err error) error {
	if err != nil {
		return err
	}
	if code != 0 {
		return exitError{code: code}
	}
	return nil
}
