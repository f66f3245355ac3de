package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/project"
)

func newImagesCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "images",
		Short: "List the images and built environments in the store, with sizes and last use",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			store, err := project.OpenStore()
			if err != nil {
				return err
			}
			inv, err := store.Inventory()
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.OutOrStdout(), inv)
			}
			printInventory(c.OutOrStdout(), inv, time.Now())
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the store's contents as JSON")
	return c
}

// printInventory prints the images, then the environments, then the total.
func printInventory(out io.Writer, inv *layers.Inventory, now time.Time) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "IMAGE\tDIGEST\tPLATFORM\tLAYERS\tSIZE\tLAST USE")
	for _, im := range inv.Images {
		refs := strings.Join(im.Refs, ", ")
		if refs == "" {
			refs = "<none>"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", refs, shortDigest(im.Digest), im.Platform, len(im.Layers), humanSize(im.Size), ago(now, im.LastUse))
	}
	w.Flush()
	if len(inv.Envs) > 0 {
		fmt.Fprintln(out)
		w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ENVIRONMENT\tPROJECT\tROLE\tIMAGE\tLAYERS\tSIZE\tLAST USE")
		for _, e := range inv.Envs {
			layers := fmt.Sprint(e.Layers)
			if !e.Complete {
				layers += " (incomplete)"
			}
			role := e.Role // a role's own environment
			if role == "" {
				role = "-" // the project's
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shortDigest(e.Key), e.ProjectDir, role, e.Ref, layers, humanSize(e.Size), ago(now, e.LastUse))
		}
		w.Flush()
	}
	fmt.Fprintf(out, "\ntotal: %d layers, %s on disk (shared layers counted once)\n", inv.Layers, humanSize(inv.LayersSize))
}

// writeJSON prints v as indented JSON.
func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// shortDigest is the first 12 hex digits of a sha256 digest, as docker
// shows image ids.
func shortDigest(d string) string {
	h := strings.TrimPrefix(d, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// humanSize formats bytes with SI units, as docker does ("12.3MB").
func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	v, i := float64(n), 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.3g%s", v, []string{"B", "kB", "MB", "GB", "TB"}[i])
}

// ago says how long before now t was, coarsely.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
