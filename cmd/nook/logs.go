package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/spf13/cobra"

	"github.com/nookenv/nook/project"
	"github.com/nookenv/nook/runstate"
)

// logsLivenessCheck is how often nook logs -f looks whether the role's
// nook up still lives, for one killed without a chance to say so.
const logsLivenessCheck = time.Second

func newLogsCmd(g *globals) *cobra.Command {
	var follow bool
	c := &cobra.Command{
		Use:   "logs [-f] ROLE",
		Short: "Print the output of a role run by nook up",
		Long: "Print the output (stdout and stderr) of a role run by nook up or nook up -d,\n" +
			"kept under the run-state directory from the start of the last nook up. With -f,\n" +
			"keep printing what it writes until the role's run is over.",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRoles(g, false),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := openProject(g)
			if err != nil {
				return err
			}
			if _, err := p.Role(args[0]); err != nil {
				return err
			}
			proj, err := project.OpenRunState(p.Env)
			if err != nil {
				return err
			}
			return printLog(proj, args[0], follow, os.Stdout)
		},
	}
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new output until the role's run is over")
	return c
}

// noLogError is a role that nook up has not run.
type noLogError struct{ role string }

func (e noLogError) Error() string {
	return fmt.Sprintf("role %s has no log: nook up has not run it", e.role)
}
func (e noLogError) Hint() string {
	return "nook up and nook up -d keep their roles' output; nook run prints to the terminal"
}

// printLog copies role's log to w and, with follow, what is added to it
// until the role's run is over.
func printLog(proj *runstate.Project, role string, follow bool, w io.Writer) error {
	path := proj.LogPath(role)
	f, err := proj.OpenLog(role)
	if errors.Is(err, fs.ErrNotExist) {
		return noLogError{role: role}
	}
	if err != nil {
		return fmt.Errorf("opening the log of role %s: %w", role, err)
	}
	defer f.Close()
	if !follow {
		_, err := io.Copy(w, f)
		return err
	}
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching the log of role %s: %w", role, err)
	}
	defer watcher.Close()
	for _, d := range []string{filepath.Dir(path), proj.RolesDir()} {
		if err := watcher.Add(d); err != nil {
			return fmt.Errorf("watching %s: %w", d, err)
		}
	}
	tick := time.NewTicker(logsLivenessCheck)
	defer tick.Stop()
	for {
		// Read what is there before looking at the role: what it wrote
		// before it ended is printed.
		active := upRoleActive(proj, role)
		if err := copyNew(f, w); err != nil {
			return err
		}
		if !active {
			return nil
		}
		select {
		case <-watcher.Events:
		case err := <-watcher.Errors:
			return fmt.Errorf("watching the log of role %s: %w", role, err)
		case <-tick.C:
		}
	}
}

// copyNew copies what was added to f since the last call; a file that
// shrank (a new nook up) is read from its start.
func copyNew(f *os.File, w io.Writer) error {
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if info, err := f.Stat(); err == nil && info.Size() < pos {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	_, err = io.Copy(w, f)
	return err
}

// upRoleActive reports whether a nook up runs role (or will restart it).
func upRoleActive(proj *runstate.Project, role string) bool {
	roles, err := proj.Roles()
	if err != nil {
		return false
	}
	for _, r := range roles {
		if r.Role == role && r.Via == "up" && runstate.Active(r.State) {
			return true
		}
	}
	return false
}
