package main

import (
	"github.com/spf13/cobra"

	"github.com/nookenv/nook/project"
)

func newExecCmd(g *globals) *cobra.Command {
	var vars []string
	var who string
	c := &cobra.Command{
		Use:   "exec [--] CMD [ARGS...]",
		Short: "Run an ad-hoc command in the project's environment",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			grace, err := graceFromEnv()
			if err != nil {
				return err
			}
			p, err := openProjectEnv(g, vars)
			if err != nil {
				return err
			}
			role := p.Env.DefaultRole()
			role.Command, role.Shell = args, false
			if who != "" {
				role.User = who
			}
			return exitStatus(p.Run(c.Context(), role, project.RunOptions{StopTimeout: grace}))
		},
	}
	envFlag(c, &vars)
	userFlag(c, &who)
	c.Flags().SetInterspersed(false)
	return c
}

func newShellCmd(g *globals) *cobra.Command {
	var vars []string
	var who string
	c := &cobra.Command{
		Use:               "shell [ROLE]",
		Short:             "Open an interactive shell (bash if present, else sh) in the environment",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeRoles(g, false),
		RunE: func(c *cobra.Command, args []string) error {
			grace, err := graceFromEnv()
			if err != nil {
				return err
			}
			p, err := openProjectEnv(g, vars)
			if err != nil {
				return err
			}
			role := p.Env.DefaultRole()
			if len(args) == 1 {
				if role, err = p.Role(args[0]); err != nil {
					return err
				}
			}
			if who != "" {
				copied := *role
				copied.User = who
				role = &copied
			}
			return exitStatus(p.Run(c.Context(), role, project.RunOptions{Shell: true, StopTimeout: grace}))
		},
	}
	envFlag(c, &vars)
	userFlag(c, &who)
	return c
}
