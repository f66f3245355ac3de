package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/cgroups"
	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/project"
	"github.com/nookenv/nook/runstate"
)

// psRow is one role in nook ps, and its --json form.
type psRow struct {
	Project    string    `json:"project"`
	ProjectDir string    `json:"projectDir"`
	Role       string    `json:"role"`
	Pid        int       `json:"pid"`
	Via        string    `json:"via"` // "up" or "run"
	State      string    `json:"state"`
	Ports      []string  `json:"ports"`
	Started    time.Time `json:"started"`
	Uptime     float64   `json:"uptimeSeconds"` // 0 unless running
	Restarts   int       `json:"restarts"`
	Exit       *int      `json:"exit,omitempty"`
	Error      string    `json:"error,omitempty"`
	// Memory is what the role uses now, MemoryLimit its limit (0: none),
	// in bytes; known only for a role run with limits (it has a cgroup).
	Memory      int64 `json:"memoryBytes,omitempty"`
	MemoryLimit int64 `json:"memoryLimitBytes,omitempty"`
}

func newPsCmd(g *globals) *cobra.Command {
	var all, asJSON bool
	c := &cobra.Command{
		Use:   "ps [--all] [--json]",
		Short: "List the running roles of the project (--all: of every project, and ended ones)",
		Long: "List the roles that run in the project: those of nook up and of nook run, with\n" +
			"pid, state, published ports and uptime. Outside a project, and with --all, every\n" +
			"project's; --all also lists roles that have ended. State left by a nook that was\n" +
			"killed is recognised (by pid and process start time) and cleaned, never listed\n" +
			"as running.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			projects, err := psProjects(g, all)
			if err != nil {
				return err
			}
			rows, err := psRows(projects, all)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(os.Stdout, rows)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROJECT\tROLE\tPID\tSTATE\tPORTS\tUPTIME\tMEMORY")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Project, r.Role, dash(r.Pid), psState(r),
					orDash(strings.Join(r.Ports, ",")), uptime(r), memory(r))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "every project, and roles that have ended")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// psProjects are the projects nook ps looks at: the current one, or every
// one with --all or outside a project.
func psProjects(g *globals, all bool) ([]*runstate.Project, error) {
	if !all {
		if e, err := loadEnv(g); err == nil {
			p, err := project.OpenRunState(e)
			if err != nil {
				return nil, err
			}
			return []*runstate.Project{p}, nil
		} else if g.dir != "" || g.file != "" {
			return nil, err
		}
	}
	return runstate.List(env.RunDir())
}

// psRows reads the records of projects: active roles, and with all the
// ended ones too. Stale records are cleaned as they are read.
func psRows(projects []*runstate.Project, all bool) ([]psRow, error) {
	rows := []psRow{}
	for _, p := range projects {
		p.Supervisor() // cleans a dead supervisor's record and socket
		roles, err := p.Roles()
		if err != nil {
			return nil, err
		}
		var pod *project.PodFile
		for _, r := range roles {
			if !runstate.Active(r.State) && !all {
				continue
			}
			row := psRow{Project: r.Project, ProjectDir: r.ProjectDir, Role: r.Role, Pid: r.Pid, Via: r.Via,
				State: r.State, Ports: r.Ports, Started: r.Started, Restarts: r.Restarts, Exit: r.Exit, Error: r.Error}
			if row.Ports == nil {
				row.Ports = []string{}
			}
			if runstate.Active(r.State) {
				if row.Pid == 0 {
					if pod == nil {
						pod = project.ReadPodFile(project.PodDir(p.ID))
					}
					if pids := project.PodRolePids(pod, r.Role); len(pids) > 0 {
						row.Pid = pids[0]
					}
				}
				if row.Pid == 0 {
					row.Pid = r.Owner.Pid // the nook process running it
				}
				if r.State == runstate.Running {
					row.Uptime = time.Since(r.Started).Round(time.Second).Seconds()
				}
				if dir, ok := cgroups.Find("/", r.Owner.Pid, r.Role); ok {
					row.Memory, row.MemoryLimit, _ = cgroups.Usage(dir)
				}
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// psState is the state column: the exit status of an ended role, the
// restarts of a restarted one.
func psState(r psRow) string {
	s := r.State
	if r.Exit != nil && !runstate.Active(r.State) {
		s += fmt.Sprintf(" (%d)", *r.Exit)
	}
	if r.Restarts > 0 {
		s += fmt.Sprintf(", %d restarts", r.Restarts)
	}
	return s
}

func uptime(r psRow) string {
	if r.State != runstate.Running {
		return "-"
	}
	return (time.Duration(r.Uptime) * time.Second).String()
}

// memory is the memory column: use, and the limit when there is one.
func memory(r psRow) string {
	switch {
	case r.Memory == 0:
		return "-"
	case r.MemoryLimit == 0:
		return cgroups.FormatBytes(r.Memory)
	}
	return cgroups.FormatBytes(r.Memory) + " / " + cgroups.FormatBytes(r.MemoryLimit)
}

func dash(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
