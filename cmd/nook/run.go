package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/env"
)

func newRunCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "run ROLE [-- ARGS...]",
		Short: "Run a role (after its one-shot dependencies) in the foreground",
		Long: "Run a role of nook.toml in its environment, pulling what is missing first.\n" +
			"ARGS are appended to an array command, or passed as \"$@\" to a string command.\n" +
			"The exit status is the command's; 125 is nook's own error, 126 a command that\n" +
			"cannot be executed, 127 a command that was not found.",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeRoles(g),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := loadEnv(g)
			if err != nil {
				return err
			}
			role, ok := e.Roles[args[0]]
			if !ok {
				return unknownRole(e, args[0])
			}
			// The roles share one lookup of the environment and one
			// connection to the pod, made by the first role that needs it.
			b, pods := &built{}, &podJoiner{env: e}
			defer pods.close()
			for _, dep := range oneShotDependencies(e, role) {
				code, err := launch{env: e, role: e.Roles[dep], built: b, pod: pods}.start()
				if err != nil {
					return err
				}
				if code != 0 {
					return exitError{code: code, msg: fmt.Sprintf("dependency %s of %s exited with status %d", dep, role.Name, code)}
				}
			}
			extra := args[1:]
			if len(extra) > 0 && extra[0] == "--" {
				extra = extra[1:] // flags stop at ROLE, so pflag keeps the "--"
			}
			return launch{env: e, role: role, args: extra, built: b, pod: pods}.run()
		},
	}
	c.Flags().SetInterspersed(false)
	return c
}

// oneShotDependencies lists role's dependencies, direct and indirect, that
// run to completion (no ports, no restart policy), in the order they must
// run. Long-running dependencies are `nook up`'s to start.
func oneShotDependencies(e *env.Env, role *env.Role) []string {
	all, _ := withDependencies(e, []string{role.Name}) // env validated every name
	var out []string
	for _, n := range all {
		if n != role.Name && !longRunning(e.Roles[n]) {
			out = append(out, n)
		}
	}
	return out
}

// withDependencies returns names and their dependencies, direct and
// indirect, each once, every role after the roles it depends on.
func withDependencies(e *env.Env, names []string) ([]string, error) {
	var out []string
	var add func(string) error
	add = func(n string) error {
		if slices.Contains(out, n) {
			return nil
		}
		r, ok := e.Roles[n]
		if !ok {
			return unknownRole(e, n)
		}
		for _, d := range r.DependsOn {
			if err := add(d); err != nil {
				return err
			}
		}
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := add(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// longRunning reports whether a role serves rather than finishes: it
// publishes ports or has a restart policy.
func longRunning(r *env.Role) bool {
	return len(r.Ports) > 0 || (r.Restart != "" && r.Restart != env.RestartNo)
}

func unknownRole(e *env.Env, name string) error {
	return usageError{
		msg:  fmt.Sprintf("%s has no role %q", e.File, name),
		hint: fmt.Sprintf("roles: %v", e.RoleNames()),
	}
}

// completeRoles completes role names from the project's nook.toml.
func completeRoles(g *globals) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		e, err := loadEnv(g)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return e.RoleNames(), cobra.ShellCompDirectiveNoFileComp
	}
}
