package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/project"
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
			grace, err := graceFromEnv()
			if err != nil {
				return err
			}
			p, err := openProject(g)
			if err != nil {
				return err
			}
			role, err := p.Role(args[0])
			if err != nil {
				return err
			}
			// The roles share one lookup of the environment (p's) and one
			// connection to the pod, made by the first role that needs it.
			ctx, pods := c.Context(), p.NewPodJoiner()
			defer pods.Close()
			stopDeps, err := p.StartDependencies(ctx, role, project.RunOptions{Pod: pods, StopTimeout: grace})
			if err != nil {
				return dependencyFailed(p, err)
			}
			defer stopDeps()
			extra := args[1:]
			if len(extra) > 0 && extra[0] == "--" {
				extra = extra[1:] // flags stop at ROLE, so pflag keeps the "--"
			}
			return exitStatus(p.Run(ctx, role, project.RunOptions{Args: extra, Pod: pods, StopTimeout: grace}))
		},
	}
	c.Flags().SetInterspersed(false)
	return c
}

// dependencyFailed prints the end of a failed long-running dependency's
// log before err is reported.
func dependencyFailed(p *project.Project, err error) error {
	var dep *project.DependencyError
	if errors.As(err, &dep) && dep.Log != "" {
		if t := tail(dep.Log, 20); t != "" {
			fmt.Fprintf(os.Stderr, "nook: the last lines of %s's log:\n%s", dep.Dependency, t)
		}
	}
	return err
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
