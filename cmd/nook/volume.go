package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/project"
	"github.com/nookenv/nook/rootless"
	"github.com/nookenv/nook/runstate"
)

func newVolumeCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "volume",
		Short: "List and remove the project's named volumes",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newVolumeLsCmd(g), newVolumeRmCmd(g))
	return c
}

func newVolumeLsCmd(g *globals) *cobra.Command {
	var all, asJSON bool
	c := &cobra.Command{
		Use:   "ls",
		Short: "List the project's volumes (--all: every project's)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			id := "" // every project's
			if !all {
				e, err := loadEnv(g)
				if err != nil {
					return err
				}
				id = e.ProjectID
			}
			store, err := project.OpenStore()
			if err != nil {
				return err
			}
			vols, err := store.Volumes(id)
			if err != nil {
				return err
			}
			if asJSON {
				if vols == nil {
					vols = []layers.VolumeInfo{}
				}
				return writeJSON(c.OutOrStdout(), vols)
			}
			printVolumes(c.OutOrStdout(), vols)
			return nil
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "list the volumes of every project in the store")
	c.Flags().BoolVar(&asJSON, "json", false, "print the volumes as JSON")
	return c
}

// printVolumes prints one volume per line.
func printVolumes(out io.Writer, vols []layers.VolumeInfo) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PROJECT\tNAME\tSIZE\tPATH")
	for _, v := range vols {
		project := v.ProjectDir
		if project == "" {
			project = v.Project // a project nook has not recorded
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", project, v.Name, humanSize(v.Size), v.Path)
	}
	w.Flush()
}

func newVolumeRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME...",
		Short: "Remove the project's named volumes and their contents",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, names []string) error {
			e, err := loadEnv(g)
			if err != nil {
				return err
			}
			if err := checkVolumesFree(e.ProjectID, e.ProjectDir); err != nil {
				return fmt.Errorf("removing volume %s: %w", strings.Join(names, ", "), err)
			}
			store, err := project.OpenStore()
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range names {
				size, err := store.RemoveVolume(e.ProjectID, name, rootless.RemoveAll)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(c.OutOrStdout(), "removed volume %s (%s)\n", name, humanSize(size))
			}
			return errors.Join(errs...)
		},
	}
}

// volumesInUseError refuses to remove the volumes of a project whose roles
// run: they have them mounted, and may be writing to them.
type volumesInUseError struct {
	dir   string   // the project directory
	roles []string // its running roles
}

func (e volumesInUseError) Error() string {
	return fmt.Sprintf("roles of project %s are running: %s", e.dir, strings.Join(e.roles, ", "))
}

func (e volumesInUseError) Hint() string {
	return "stop them first with `nook stop` in the project (`nook ps --all` lists them)"
}

// checkVolumesFree fails with a volumesInUseError while roles of project
// id (nook up, run, exec, shell) run, as `nook ps` finds them; dir names
// the project in the message.
func checkVolumesFree(id, dir string) error {
	proj, err := runstate.Find(env.RunDir(), id)
	if err != nil {
		return err
	}
	roles, err := proj.Roles()
	if err != nil {
		return err
	}
	var running []string
	for _, r := range roles {
		if runstate.Active(r.State) && !slices.Contains(running, r.Role) {
			running = append(running, r.Role)
		}
	}
	if len(running) == 0 {
		return nil
	}
	return volumesInUseError{dir: dir, roles: running}
}
