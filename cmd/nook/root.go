package main

import (
	"os"

	"github.com/spf13/cobra"
)

// globals are the flags every command shares.
type globals struct {
	dir  string // -C: act as if started in DIR
	file string // --file: the nook.toml to use
}

// Main runs the nook command line and returns the exit status.
func Main() int {
	g := &globals{}
	root := &cobra.Command{
		Use:   "nook",
		Short: "Rootless, daemonless, reproducible dev environments",
		Long: "nook runs a project's build, test and server roles in isolated, reproducible\n" +
			"environments described by nook.toml: rootless, daemonless, cached.",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().StringVarP(&g.dir, "directory", "C", "", "run as if nook was started in `DIR`")
	root.PersistentFlags().StringVar(&g.file, "file", "", "use `PATH` as the project's nook.toml")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{msg: err.Error(), hint: "see `" + c.CommandPath() + " --help`"}
	})
	root.AddCommand(
		newRunCmd(g),
		newBuildCmd(g),
		newExecCmd(g),
		newShellCmd(g),
		newInitCmd(g),
		newWatchCmd(g),
		newUpCmd(g),
		newPsCmd(g),
		newLogsCmd(g),
		newStopCmd(g),
		newVersionCmd(),
		newImagesCmd(),
		newGCCmd(),
		newVolumeCmd(g),
		newDoctorCmd(g),
		newExportCmd(g),
	)
	if err := root.Execute(); err != nil {
		return report(os.Stderr, err)
	}
	return 0
}
