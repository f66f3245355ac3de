package main

import (
	"github.com/spf13/cobra"

	"github.com/nookenv/nook/project"
)

func newBuildCmd(g *globals) *cobra.Command {
	var f project.BuildOptions
	c := &cobra.Command{
		Use:   "build [--update] [--offline]",
		Short: "Pull the images and build the packages and setup layers; write nook.lock if missing",
		Long: "Build the project's environments — its own and each role's with an image of its own —:\n" +
			"the image, one layer of OS packages and one layer per setup step, each cached in the\n" +
			"store by the content it depends on. nook.lock pins each image's digest and the packages'\n" +
			"versions; it is written when missing and used as it is otherwise. Several environments\n" +
			"build at once, each line of their output prefixed by the role (\"project\" for the\n" +
			"project's). Step output is prefixed [N/M]; a failing step ends nook with status 125.\n" +
			"NOOK_PULL_STALL_TIMEOUT (default 1m) is how long a registry may send nothing before\n" +
			"a pull gives up on it.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if f.Update && f.Offline {
				return usageError{msg: "--update resolves the image again, which --offline forbids", hint: "use one of --update and --offline"}
			}
			p, err := openProject(g)
			if err != nil {
				return err
			}
			return p.Build(c.Context(), f)
		},
	}
	c.Flags().BoolVar(&f.Update, "update", false, "resolve the image's tag and the packages' versions again and rewrite nook.lock")
	c.Flags().BoolVar(&f.Offline, "offline", false, "never use the network: fail, naming it, when something is missing")
	return c
}
