package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/project"
	"github.com/nookenv/nook/rootless"
)

func newGCCmd() *cobra.Command {
	var opt layers.GCOptions
	var asJSON bool
	c := &cobra.Command{
		Use:   "gc",
		Short: "Remove from the store what no project's nook.lock and no recent use needs",
		Long: "gc keeps the environments and images that a project's nook.lock pins and those used within\n" +
			"the last 30 days ($NOOK_GC_KEEP overrides: 12h, 7d, 0), and removes the rest: unused environments,\n" +
			"images, layers, records and leftovers of interrupted builds. --volumes also removes the volumes\n" +
			"of projects whose nook.toml is gone.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			keep, err := gcKeep(os.Getenv("NOOK_GC_KEEP"))
			if err != nil {
				return err
			}
			opt.Keep = keep
			opt.Remove = rootless.RemoveAll
			inUse := false
			opt.VolumesInUse = func(p layers.ProjectRecord) error {
				err := checkVolumesFree(p.ID, p.Dir)
				if err != nil {
					inUse = true
				}
				return err
			}
			store, err := project.OpenStore()
			if err != nil {
				return err
			}
			rep, err := store.GC(opt)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(c.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				printGC(c.OutOrStdout(), rep, opt.DryRun)
			}
			if len(rep.Errors) > 0 {
				err := fmt.Errorf("gc could not remove everything:\n%s", strings.Join(rep.Errors, "\n"))
				if inUse {
					return hintedError{err: err, hint: gcInUseHint}
				}
				return err
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&opt.DryRun, "dry-run", "n", false, "print what would be removed, remove nothing")
	c.Flags().BoolVar(&opt.Volumes, "volumes", false, "also remove the volumes of projects whose nook.toml is gone")
	c.Flags().BoolVar(&asJSON, "json", false, "print what was removed as JSON")
	return c
}

// gcInUseHint follows a gc --volumes that kept the volumes of a project
// whose roles run: its nook.toml is gone, so `nook stop` cannot find it.
const gcInUseHint = "`nook ps --all` lists the running roles; stop them (Ctrl-C their nook, or put the project's\n" +
	"nook.toml back and run `nook stop` there), then run `nook gc --volumes` again"

// gcKeep parses $NOOK_GC_KEEP: a Go duration ("36h") or days ("7d"); "0"
// keeps nothing for recent use. Empty means the default.
func gcKeep(s string) (time.Duration, error) {
	if s == "" {
		return layers.DefaultGCKeep, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n float64
		if n, err = strconv.ParseFloat(days, 64); err == nil {
			d = time.Duration(n * float64(24*time.Hour))
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < 0 {
		return 0, usageError{msg: fmt.Sprintf("NOOK_GC_KEEP=%q is not a duration", s), hint: "write e.g. NOOK_GC_KEEP=7d, 36h or 0"}
	}
	if d == 0 {
		return -1, nil // layers.GCOptions: negative keeps nothing for recency
	}
	return d, nil
}

// printGC lists what gc removed and the space freed. The records that go
// with what is listed (refs, built-layer records, lock files) are counted,
// not listed.
func printGC(out io.Writer, rep *layers.GCReport, dryRun bool) {
	verb, freed := "removed", "freed"
	if dryRun {
		verb, freed = "would remove", "would free"
	}
	records := 0
	for _, r := range rep.Removed {
		switch r.Kind {
		case "environment", "image", "layer", "volume", "tmp":
			detail := ""
			if r.Detail != "" {
				detail = " " + r.Detail
			}
			if r.Kind == "tmp" {
				r.Kind, detail = "leftover", " of an interrupted build"
			}
			fmt.Fprintf(out, "%s %s %s%s (%s)\n", verb, r.Kind, r.Name, detail, humanSize(r.Size))
		default:
			records++
		}
	}
	summary := fmt.Sprintf("%s %s", freed, humanSize(rep.Freed))
	if records > 0 {
		summary += fmt.Sprintf(" (with %d records)", records)
	}
	fmt.Fprintln(out, summary)
}
