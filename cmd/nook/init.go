package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/templates"
)

func newInitCmd(g *globals) *cobra.Command {
	var template, image string
	var list bool
	c := &cobra.Command{
		Use:   "init [--template NAME] [--image REF] [--list]",
		Short: "Write a starter nook.toml",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if list {
				return listTemplates(c.OutOrStdout())
			}
			data, err := templates.Render(template, image)
			if err != nil {
				return usageError{msg: err.Error(), hint: "templates: " + strings.Join(templates.Names(), ", ")}
			}
			dir := g.dir
			if dir == "" {
				dir = "."
			}
			path := filepath.Join(dir, "nook.toml")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, os.ErrExist) {
				return usageError{msg: path + " already exists", hint: "edit it, or remove it to start again"}
			}
			if err != nil {
				return fmt.Errorf("writing %s: %w", path, err)
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return fmt.Errorf("writing %s: %w", path, err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("writing %s: %w", path, err)
			}
			fmt.Fprintf(c.OutOrStdout(), "wrote %s (template %s)\n", path, template)
			return nil
		},
	}
	c.Flags().StringVar(&template, "template", "blank", "starter `NAME` (see --list)")
	c.Flags().StringVar(&image, "image", "", "base image `REF` instead of the template's")
	c.Flags().BoolVar(&list, "list", false, "list the templates, a line each")
	c.RegisterFlagCompletionFunc("template", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, name := range templates.Names() {
			s, _ := templates.Summary(name)
			out = append(out, name+"\t"+s) // shown as the candidate's description
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

// listTemplates writes a line per template: its name, what it is for, its
// image and its roles.
func listTemplates(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, name := range templates.Names() {
		s, err := templates.Summary(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\n", name, s)
	}
	return tw.Flush()
}
