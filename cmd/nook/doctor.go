package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/doctor"
	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/project"
)

func newDoctorCmd(g *globals) *cobra.Command {
	var asJSON, registries bool
	c := &cobra.Command{
		Use:   "doctor [--json] [--registries]",
		Short: "Check that this machine has what nook needs, and say how to fix what it lacks",
		Long: "Check the machine nook runs on, one line per check (ok, warn or fail): the\n" +
			"kernel, unprivileged user namespaces, a trial run of a role, subordinate ids,\n" +
			"slirp4netns and /dev/net/tun, the unprivileged port start, inotify limits,\n" +
			"cgroup v2 delegation for limits, the store's file system, the user config;\n" +
			"inside a project also nook.toml, nook.lock and the built environment. Each\n" +
			"problem comes with the commands that fix it and keep the fix across reboots.\n" +
			"--registries also reaches the registries of the user config and of the\n" +
			"project's image (without it nook doctor touches no network).\n\n" +
			"Exit status: 0 when nothing blocks nook, 1 when a check failed.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			report := doctor.Run(doctor.Local(doctorProject(g), registries))
			if asJSON {
				if err := writeJSON(os.Stdout, report); err != nil {
					return err
				}
			} else {
				writeReport(os.Stdout, report)
			}
			if report.Blocked() {
				return exitError{code: 1}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&registries, "registries", false, "reach the registries over the network")
	return c
}

// doctorProject is the project nook doctor runs in, valid or not; nil
// outside a project.
func doctorProject(g *globals) *doctor.Project {
	e, err := loadEnv(g)
	var notFound *env.NotFoundError
	switch {
	case errors.As(err, &notFound) && g.file == "":
		return nil
	case err != nil:
		return &doctor.Project{Err: err}
	}
	cwd, _ := os.Getwd()
	return &doctor.Project{File: project.DisplayPath(cwd, e.File), Env: e}
}

// writeReport prints one line per check, and under a problem the
// commands that fix it, then a verdict.
func writeReport(w io.Writer, r *doctor.Report) {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	indent := strings.Repeat(" ", 6+width+2)
	counts := map[doctor.Status]int{}
	for _, c := range r.Checks {
		counts[c.Status]++
		fmt.Fprintf(w, "%-4s  %-*s  %s\n", c.Status, width, c.Name, c.Summary)
		for _, block := range []struct {
			label string
			lines []string
		}{{"fix:  ", c.Fix}, {"keep: ", c.Keep}, {"or:   ", c.Or}} {
			for i, line := range block.lines {
				label := block.label
				if i > 0 {
					label = strings.Repeat(" ", len(label))
				}
				fmt.Fprintf(w, "%s%s%s\n", indent, label, line)
			}
		}
	}
	switch {
	case counts[doctor.Fail] > 0:
		fmt.Fprintf(w, "\n%s failed, %s: fix the failures first\n", count(counts[doctor.Fail], "check"), count(counts[doctor.Warn], "warning"))
	case counts[doctor.Warn] > 0:
		fmt.Fprintf(w, "\nnothing blocks nook; %s\n", count(counts[doctor.Warn], "warning"))
	default:
		fmt.Fprintln(w, "\nnothing blocks nook")
	}
}

// count is "1 warning", "2 warnings" (as plural has them), "no warnings".
func count(n int, noun string) string {
	if n == 0 {
		return "no " + noun + "s"
	}
	return plural(n, noun)
}
