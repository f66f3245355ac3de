package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

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

// envFlag adds -e/--env KEY=VALUE (repeatable) to c, collected in vars.
func envFlag(c *cobra.Command, vars *[]string) {
	c.Flags().StringArrayVarP(vars, "env", "e", nil,
		"set `KEY=VALUE` in the role's environment, over nook.toml's (-e KEY: the value KEY has here); repeatable")
}

// userFlag adds -u/--user to c, as docker exec -u: who runs the command.
func userFlag(c *cobra.Command, who *string) {
	c.Flags().StringVarP(who, "user", "u", "",
		"run as `USER`: host (you, with your own ids), or NAME, UID, NAME:GROUP, UID:GID of the image (the full id map); default: the role's")
}

// openProjectEnv is openProject with the -e values in vars over every
// role's environment.
func openProjectEnv(g *globals, vars []string) (*project.Project, error) {
	p, err := openProject(g)
	if err != nil {
		return nil, err
	}
	if p.Vars, err = env.CommandLineVars(vars, os.LookupEnv); err != nil {
		return nil, usageError{msg: err.Error(), hint: hints(err)[0]}
	}
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
