package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/project"
)

func newRunCmd(g *globals) *cobra.Command {
	var vars []string
	c := &cobra.Command{
		Use:   "run [ROLE [-- ARGS...]]",
		Short: "Run a role (after its dependencies) in the foreground; without ROLE, list the roles",
		Long: "Run a role of nook.toml in its environment, pulling what is missing first, after\n" +
			"its dependencies: one-shot ones run first, long-running ones are started (and\n" +
			"stopped afterwards) or joined where they run already.\n" +
			"ARGS are appended to an array command, or passed as \"$@\" to a string command.\n" +
			"The exit status is the command's; 125 is nook's own error, 126 a command that\n" +
			"cannot be executed, 127 a command that was not found.\n" +
			"Without ROLE, list the project's roles: kind, published ports, command.",
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
			if len(args) == 0 {
				return listRoles(c.OutOrStdout(), p.Env)
			}
			role, err := p.Role(args[0])
			if err != nil {
				return err
			}
			// The roles share one lookup of the environment (p's) and one
			// connection to the pod, made by the first role that needs it.
			ctx, pods := c.Context(), p.NewPodJoiner()
			defer pods.Close()
			stopDeps, err := p.StartDependencies(ctx, role, project.RunOptions{Pod: pods, StopTimeout: grace})
			if err != nil {
				return dependencyFailed(p, err)
			}
			defer stopDeps()
			extra := args[1:]
			if len(extra) > 0 && extra[0] == "--" {
				extra = extra[1:] // flags stop at ROLE, so pflag keeps the "--"
			}
			return exitStatus(p.Run(ctx, role, project.RunOptions{Args: extra, Pod: pods, StopTimeout: grace}))
		},
	}
	envFlag(c, &vars)
	c.Flags().SetInterspersed(false)
	return c
}

// dependencyFailed prints the end of a failed long-running dependency's
// log before err is reported.
func dependencyFailed(p *project.Project, err error) error {
	var dep *project.DependencyError
	if errors.As(err, &dep) && dep.Log != "" {
		if t := tail(dep.Log, 20); t != "" {
			fmt.Fprintf(os.Stderr, "nook: the last lines of %s's log:\n%s", dep.Dependency, t)
		}
	}
	return err
}

// completeRoles completes role names from the project's nook.toml, each
// with its kind and command as its description: the first argument only,
// or with several, every argument, leaving out the roles already named.
func completeRoles(g *globals, several bool) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 && !several {
			return nil, cobra.ShellCompDirectiveDefault
		}
		e, err := loadEnv(g)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range e.RoleNames() {
			if !slices.Contains(args, n) {
				out = append(out, n+"\t"+roleKind(e.Roles[n])+": "+commandSummary(e.Roles[n]))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// listRoles writes a line per role of e: its name, whether it serves or
// finishes, its published ports and its command.
func listRoles(w io.Writer, e *env.Env) error {
	fmt.Fprintf(w, "The roles of %s (nook run ROLE runs one):\n", e.File)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tKIND\tPORTS\tCOMMAND")
	for _, n := range e.RoleNames() {
		r := e.Roles[n]
		var ports []string
		for _, p := range r.Ports {
			ports = append(ports, p.String())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n, roleKind(r), cmp.Or(strings.Join(ports, ","), "-"), commandSummary(r))
	}
	return tw.Flush()
}

// roleKind says whether a role serves (nook up starts it) or finishes.
func roleKind(r *env.Role) string {
	if r.LongRunning() {
		return "long-running"
	}
	return "one-shot"
}

// commandSummary is a role's command on one line, at most 60 characters:
// the first line of a script (… marks the rest), an array as a shell would
// read it.
func commandSummary(r *env.Role) string {
	var s string
	if r.Shell {
		script := strings.TrimSpace(r.Command[0])
		first, _, more := strings.Cut(script, "\n")
		s = strings.TrimSpace(first)
		if more {
			s += " …"
		}
	} else {
		words := make([]string, len(r.Command))
		for i, w := range r.Command {
			words[i] = w
			if w == "" || strings.ContainsAny(w, " \t\n\"'\\$`") {
				words[i] = strconv.Quote(w)
			}
		}
		s = strings.Join(words, " ")
	}
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:59]) + "…"
	}
	return s
}
