package main

import (
	"github.com/spf13/cobra"
)

func newExecCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "exec [--] CMD [ARGS...]",
		Short: "Run an ad-hoc command in the project's environment",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := loadEnv(g)
			if err != nil {
				return err
			}
			role := e.DefaultRole()
			role.Command, role.Shell = args, false
			return launch{env: e, role: role}.run()
		},
	}
	c.Flags().SetInterspersed(false)
	return c
}

func newShellCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:               "shell [ROLE]",
		Short:             "Open an interactive shell (bash if present, else sh) in the environment",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeRoles(g),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := loadEnv(g)
			if err != nil {
				return err
			}
			role := e.DefaultRole()
			if len(args) == 1 {
				r, ok := e.Roles[args[0]]
				if !ok {
					return unknownRole(e, args[0])
				}
				role = r
			}
			return launch{env: e, role: role, shell: true}.run()
		},
	}
}
