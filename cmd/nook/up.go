package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/internal/safefile"
	"github.com/nookenv/nook/project"
	"github.com/nookenv/nook/runstate"
)

// upReadyFd is the descriptor on which a detached supervisor tells
// `nook up -d` that its roles started (a project.UpStart as JSON), then closes.
const upReadyFd = 3

func newUpCmd(g *globals) *cobra.Command {
	var detach, child bool
	var vars []string
	c := &cobra.Command{
		Use:   "up [-d] [ROLE...]",
		Short: "Start long-running roles with their dependencies, logs prefixed by role",
		Long: "Start the roles (default: those that publish ports or have a restart policy)\n" +
			"after their dependencies: one-shot roles must succeed first, long-running ones\n" +
			"must be ready (their ready.port listening, else running for 1s). Output is prefixed by\n" +
			"role and kept under the run-state directory for `nook logs`. Restart policies\n" +
			"apply. Ctrl-C (or SIGTERM) stops every role (SIGTERM, grace period, SIGKILL);\n" +
			"nook up exits non-zero if a role failed. NOOK_STOP_TIMEOUT sets the grace period\n" +
			"(default 10s).\n\n" +
			"With -d, a supervisor process of its own session runs the roles and nook up\n" +
			"returns once they are started (or one failed: 125, with its log's tail).",
		ValidArgsFunction: completeRoles(g, true),
		RunE: func(c *cobra.Command, args []string) error {
			grace, err := graceFromEnv()
			if err != nil {
				return err
			}
			if child {
				return runDetachedChild(g, args, vars, grace)
			}
			p, err := openProjectEnv(g, vars)
			if err != nil {
				return err
			}
			roles, err := p.UpRoles(args)
			if err != nil {
				return err
			}
			proj, err := project.OpenRunState(p.Env)
			if err != nil {
				return err
			}
			if s, err := proj.Supervisor(); err != nil {
				return err
			} else if s != nil {
				return project.AlreadyUpError{Project: p.Env.Project, Pid: s.Owner.Pid}
			}
			if err := p.CheckPorts(roles); err != nil {
				return err
			}
			p.CheckLimits(roles)
			// Build before anything starts, and before detaching: the
			// output is yours, and several environments build at once.
			if err := p.EnsureEnvironments(c.Context(), roles); err != nil {
				return err
			}
			if detach {
				return detachUp(g, proj, args, p.Vars)
			}
			return exitStatus(p.Up(proj, roles, project.UpOptions{Grace: grace, Terminal: os.Stdout}))
		},
	}
	c.Flags().BoolVarP(&detach, "detach", "d", false, "run the roles in the background and return once they are started")
	c.Flags().BoolVar(&child, "detached-child", false, "the supervisor of nook up -d (internal)")
	c.Flags().MarkHidden("detached-child")
	envFlag(c, &vars)
	return c
}

// graceFromEnv is the grace period between SIGTERM and SIGKILL that
// NOOK_STOP_TIMEOUT sets; zero means rootless's default.
func graceFromEnv() (time.Duration, error) {
	v := os.Getenv(stopTimeoutVar)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, usageError{msg: fmt.Sprintf("%s=%q: not a duration", stopTimeoutVar, v), hint: `for example NOOK_STOP_TIMEOUT=2s`}
	}
	return d, nil
}

// detachUp starts the supervisor in a session of its own and waits until
// it reports that its roles started. vars are the -e values, as KEY=VALUE.
func detachUp(g *globals, proj *runstate.Project, args, vars []string) error {
	logPath := proj.SupervisorLogPath()
	logf, err := proj.CreateSupervisorLog()
	if err != nil {
		return err
	}
	defer logf.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("making the start pipe of nook up -d: %w", err)
	}
	defer r.Close()
	argv := []string{"nook"}
	if g.dir != "" {
		argv = append(argv, "-C", g.dir)
	}
	if g.file != "" {
		argv = append(argv, "--file", g.file)
	}
	argv = append(argv, "up", "--detached-child")
	for _, kv := range vars {
		argv = append(argv, "--env", kv)
	}
	argv = append(append(argv, "--"), args...)
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        argv,
		Stdout:      logf,
		Stderr:      logf,
		ExtraFiles:  []*os.File{w}, // upReadyFd
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("starting the supervisor of nook up -d: %w", err)
	}
	w.Close()
	var res project.UpStart
	if err := json.NewDecoder(r).Decode(&res); err != nil {
		cmd.Wait()
		fmt.Fprint(os.Stderr, tail(logPath, 20))
		return fmt.Errorf("the supervisor of nook up -d ended before its roles started (its log: %s)", logPath)
	}
	cmd.Process.Release() // it lives on in its own session
	if res.Error != "" {
		if t := tail(proj.LogPath(res.Role), 20); res.Role != "" && t != "" {
			fmt.Fprintf(os.Stderr, "nook: the last lines of %s's log:\n%s", res.Role, t)
		}
		return upFailedError{msg: res.Error, hints: res.Hints}
	}
	fmt.Fprintf(os.Stderr, "nook: up: started %s (nook ps, nook logs ROLE, nook stop)\n", strings.Join(res.Roles, ", "))
	return nil
}

// upFailedError is nook up -d's supervisor failing to start, or one of its
// roles.
type upFailedError struct {
	msg   string
	hints []string
}

func (e upFailedError) Error() string { return e.msg }
func (e upFailedError) Hint() string  { return strings.Join(e.hints, "\n") }

// runDetachedChild is the supervisor of nook up -d: it reports on
// upReadyFd once the roles started, or why not.
func runDetachedChild(g *globals, args, vars []string, grace time.Duration) error {
	ready := os.NewFile(upReadyFd, "up-ready")
	if ready == nil {
		return errors.New("nook up --detached-child: no start pipe: it is nook up -d's own")
	}
	var once bool
	report := func(s project.UpStart) {
		if !once {
			once = true
			json.NewEncoder(ready).Encode(s)
			ready.Close()
		}
	}
	err := func() error {
		p, err := openProjectEnv(g, vars)
		if err != nil {
			return err
		}
		roles, err := p.UpRoles(args)
		if err != nil {
			return err
		}
		if err := p.CheckPorts(roles); err != nil {
			return err
		}
		proj, err := project.OpenRunState(p.Env)
		if err != nil {
			return err
		}
		return exitStatus(p.Up(proj, roles, project.UpOptions{Grace: grace, Detached: true, Started: report}))
	}()
	if err != nil {
		report(project.UpStart{Error: err.Error(), Hints: hints(err)})
	}
	return err
}

// tail is the last n lines of the log at path, read as nook logs reads
// one: only a regular file of the user's (safefile.OpenOwned), never
// through a link planted in the run state, nor a fifo that would hang.
func tail(path string, n int) string {
	f, err := safefile.OpenOwned(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := strings.Join(lines, "")
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}
