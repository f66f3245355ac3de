package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/build"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/rootless"
)

func newBuildCmd(g *globals) *cobra.Command {
	var f buildFlags
	c := &cobra.Command{
		Use:   "build [--update] [--offline]",
		Short: "Pull the image and build the packages and setup layers; write nook.lock if missing",
		Long: "Build the project's environment: the image, one layer of OS packages and one layer per\n" +
			"setup step, each cached in the store by the content it depends on. nook.lock pins the\n" +
			"image's digest and the packages' versions; it is written when missing and used as it is\n" +
			"otherwise. Step output is prefixed [N/M]; a failing step ends nook with status 125.\n" +
			"NOOK_PULL_STALL_TIMEOUT (default 1m) is how long a registry may send nothing before\n" +
			"a pull gives up on it.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if f.update && f.offline {
				return usageError{msg: "--update resolves the image again, which --offline forbids", hint: "use one of --update and --offline"}
			}
			e, err := loadEnv(g)
			if err != nil {
				return err
			}
			store, err := openStore()
			if err != nil {
				return err
			}
			if f.update || f.offline {
				lock, err := layers.ReadLock(build.LockPath(e))
				if err != nil {
					return err
				}
				_, err = buildEnv(store, e, lock, nil, f, os.Stderr)
				return err
			}
			// Otherwise building is what every run does first: nothing when
			// the environment is there as nook.lock pins it.
			_, _, err = environment(store, e, os.Stderr)
			return err
		},
	}
	c.Flags().BoolVar(&f.update, "update", false, "resolve the image's tag and the packages' versions again and rewrite nook.lock")
	c.Flags().BoolVar(&f.offline, "offline", false, "never use the network: fail, naming it, when something is missing")
	return c
}

// stallTimeoutVar names the environment variable that sets how long a
// registry may send nothing before a pull gives up on it.
const stallTimeoutVar = "NOOK_PULL_STALL_TIMEOUT"

// pullStallTimeout is the stall timeout $NOOK_PULL_STALL_TIMEOUT sets;
// zero means layers.DefaultStallTimeout.
func pullStallTimeout() (time.Duration, error) {
	v := os.Getenv(stallTimeoutVar)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usageError{msg: fmt.Sprintf("%s=%q: not a positive duration", stallTimeoutVar, v), hint: "for example NOOK_PULL_STALL_TIMEOUT=5m"}
	}
	return d, nil
}

// removeBuildDir removes what a failed or finished build step left, which
// under the full id map may hold files of subordinate ids.
func removeBuildDir(path string) error {
	return rootless.RemoveAll(path)
}
