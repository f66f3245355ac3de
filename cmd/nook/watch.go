package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/project"
	"github.com/nookenv/nook/supervise"
	"github.com/nookenv/nook/watch"
)

// stopTimeoutVar overrides the grace period between SIGTERM and SIGKILL
// when nook watch stops a role (a Go duration, e.g. "2s").
const stopTimeoutVar = "NOOK_STOP_TIMEOUT"

// alwaysWatched are the files whose change re-loads the environment.
var alwaysWatched = []string{"nook.toml", "nook.lock"}

func newWatchCmd(g *globals) *cobra.Command {
	debounce := watch.DefaultDebounce
	var vars []string
	c := &cobra.Command{
		Use:   "watch [ROLE...]",
		Short: "Run roles and re-run or restart them when their watch files change",
		Long: "Run the roles (default: those that declare `watch`) with their dependencies, then\n" +
			"re-run a one-shot role, or restart a long-running one (SIGTERM, grace period,\n" +
			"SIGKILL), and the roles that depend on it, when a file matching its `watch` globs\n" +
			"changes. A change to nook.toml or nook.lock re-loads the environment and restarts\n" +
			"everything; an invalid edit is reported and the old roles keep running.\n" +
			"Ctrl-C (or SIGTERM) stops every role; nook then exits with 130 (or 143).\n" +
			"NOOK_STOP_TIMEOUT sets the grace period (default 10s).",
		ValidArgsFunction: completeRoles(g, true),
		RunE: func(c *cobra.Command, args []string) error {
			if debounce < 0 {
				return usageError{msg: fmt.Sprintf("--debounce %v: negative", debounce), hint: "use 0 for no debounce"}
			}
			grace, err := graceFromEnv()
			if err != nil {
				return err
			}
			p, err := openProjectEnv(g, vars)
			if err != nil {
				return err
			}
			if _, err := watchedRoles(p, args); err != nil {
				return err
			}
			w := &watchLoop{g: g, vars: vars, chosen: args, debounce: debounce, grace: grace}
			return w.run(p)
		},
	}
	c.Flags().DurationVar(&debounce, "debounce", watch.DefaultDebounce, "quiet `DURATION` that ends a burst of changes")
	envFlag(c, &vars)
	return c
}

// watchedRoles are the roles to run: those named, or those that declare
// watch, with their dependencies.
func watchedRoles(p *project.Project, names []string) ([]string, error) {
	e := p.Env
	if len(names) == 0 {
		for _, n := range e.RoleNames() {
			if len(e.Roles[n].Watch) > 0 {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return nil, usageError{
				msg:  fmt.Sprintf("%s: no role declares watch", e.File),
				hint: `add watch = ["**/*.go"] (for example) to a role, or name the roles: nook watch ROLE...`,
			}
		}
	}
	return p.WithDependencies(names)
}

// watchLoop is one `nook watch`: the project as loaded, its watcher and
// its supervisor, replaced together when nook.toml changes.
type watchLoop struct {
	g        *globals
	vars     []string // -e values
	chosen   []string
	debounce time.Duration
	grace    time.Duration

	env     *env.Env
	roles   []string
	watcher *watch.Watcher
	sup     *supervise.Supervisor
	pods    *project.PodJoiner // held while the project is in use: re-runs keep the pod, its ports and its other roles
	project *project.Project   // the project in use: its roles' environments looked up
	starter *roleStarter       // the supervisor's: runs roles of project
}

// run starts the roles and handles triggers until SIGINT or SIGTERM.
func (w *watchLoop) run(p *project.Project) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if err := w.use(ctx, p); err != nil {
		return err
	}
	defer func() {
		w.sup.Stop()
		w.watcher.Close()
		w.pods.Close()
	}()
	w.say("watching %s: running %s", p.Env.ProjectDir, strings.Join(w.roles, ", "))
	w.sup.StartAll()
	for {
		select {
		case sig := <-sigs:
			cancel() // every role gets SIGTERM at once
			w.sup.Stop()
			return exitError{code: 128 + int(sig.(syscall.Signal))}
		case err, ok := <-w.watcher.Errors():
			if ok {
				printError(err)
			}
		case t, ok := <-w.watcher.Triggers():
			if !ok {
				return nil
			}
			w.trigger(ctx, t)
		}
	}
}

// use makes p the project in use: its roles' environments built, a
// watcher on its roles' globs and a supervisor of its roles (not started
// yet). On error nothing changes.
func (w *watchLoop) use(ctx context.Context, p *project.Project) error {
	e := p.Env
	roles, err := watchedRoles(p, w.chosen)
	if err != nil {
		return err
	}
	// Build once, here, rather than from several roles starting at once.
	if err := p.EnsureEnvironments(ctx, roles); err != nil {
		return err
	}
	opt := watch.Options{Root: e.ProjectDir, Debounce: w.debounce, Always: alwaysWatched}
	var sroles []supervise.Role
	for _, n := range roles {
		r := e.Roles[n]
		if len(r.Watch) > 0 {
			opt.Rules = append(opt.Rules, watch.Rule{Name: n, Watch: r.Watch, Ignore: r.Ignore})
		}
		sroles = append(sroles, supervise.Role{Name: n, LongRunning: r.LongRunning(), DependsOn: r.DependsOn})
	}
	watcher, err := watch.New(opt)
	if err != nil {
		return err
	}
	pods := p.NewPodJoiner()
	starter := &roleStarter{grace: w.grace, pods: pods}
	if len(roles) > 1 {
		starter.out = project.NewPrefixer(os.Stdout, roles)
	}
	starter.p.Store(p)
	sup, err := supervise.New(ctx, starter, sroles, w.report(e))
	if err != nil {
		watcher.Close()
		return err
	}
	w.env, w.roles, w.watcher, w.sup, w.pods, w.project, w.starter = e, roles, watcher, sup, pods, p, starter
	return nil
}

// trigger handles one burst of changes.
func (w *watchLoop) trigger(ctx context.Context, t watch.Trigger) {
	if t.Has("") && w.reload(ctx, t) {
		return
	}
	var names []string
	for _, n := range t.Names {
		if n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return
	}
	// Announce before the restart: stopping the old runs takes time.
	w.say("%s changed: %s", changedFiles(t.Files), w.action(w.env, w.restartOrder(names)))
	w.sup.Restart(names...)
}

// reload re-reads nook.toml; a valid one replaces the environment, the
// watcher and every role, and reload reports true.
func (w *watchLoop) reload(ctx context.Context, t watch.Trigger) bool {
	p, err := openProjectEnv(w.g, w.vars)
	if err == nil {
		var inPlace bool
		if inPlace, err = w.reloadInPlace(ctx, p, t); inPlace && err == nil {
			return true
		}
	}
	if err == nil {
		old := w.watcher
		oldSup, oldPods := w.sup, w.pods
		if err = w.use(ctx, p); err == nil {
			w.say("%s changed: %s", changedFiles(t.Files), w.action(p.Env, w.roles))
			oldSup.Stop()
			old.Close()
			oldPods.Close()
			w.sup.StartAll()
			return true
		}
	}
	printError(err)
	w.say("%s changed but is not usable: the roles keep running as they were", changedFiles(t.Files))
	return false
}

// restartOrder is what Restart(names) will run: names and their dependants
// among the roles in use, in the order of w.roles (dependencies first).
func (w *watchLoop) restartOrder(names []string) []string {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	var out []string
	for _, n := range w.roles {
		for _, d := range w.env.Roles[n].DependsOn {
			if set[d] {
				set[n] = true
			}
		}
		if set[n] {
			out = append(out, n)
		}
	}
	return out
}

// action says what a trigger does to roles.
func (w *watchLoop) action(e *env.Env, roles []string) string {
	verb := "re-running "
	for _, n := range roles {
		if e.Roles[n].LongRunning() {
			verb = "restarting "
		}
	}
	return verb + strings.Join(roles, ", ")
}

// report turns the supervisor's events into messages: a role that fails
// says so, and the loop goes on.
func (w *watchLoop) report(e *env.Env) func(supervise.Event) {
	return func(ev supervise.Event) {
		switch {
		case ev.Skipped != "":
			w.say("not starting %s: %s did not succeed", ev.Role, ev.Skipped)
		case ev.Stopped:
		case ev.Err != nil:
			printError(fmt.Errorf("role %s: %w", ev.Role, ev.Err))
			w.say("%s failed; waiting for changes", ev.Role)
		case ev.Exit != 0:
			w.say("%s exited with status %d; waiting for changes", ev.Role, ev.Exit)
		case e.Roles[ev.Role].LongRunning():
			w.say("%s exited with status 0", ev.Role)
		}
	}
}

var sayMu sync.Mutex

// say prints one `nook: watch:` line on stderr.
func (w *watchLoop) say(format string, args ...any) {
	sayMu.Lock()
	defer sayMu.Unlock()
	fmt.Fprintf(os.Stderr, "nook: watch: "+format+"\n", args...)
}

// printError prints err as report does, without ending nook.
func printError(err error) {
	sayMu.Lock()
	defer sayMu.Unlock()
	report(os.Stderr, err)
}

// changedFiles names the changed files, the first few of them.
func changedFiles(files []string) string {
	const shown = 3
	if len(files) == 0 {
		return "files"
	}
	if len(files) <= shown {
		return strings.Join(files, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(files[:shown], ", "), len(files)-shown)
}

// roleStarter runs roles of one project for the supervisor, in the pod
// pods holds; an edit of nook.toml may swap the project (reloadInPlace).
type roleStarter struct {
	p     atomic.Pointer[project.Project]
	grace time.Duration
	pods  *project.PodJoiner
	out   *project.Prefixer // with several roles, their lines on stdout prefixed by role; nil: as they are
}

// Start runs the role in the foreground, without a terminal, until it ends
// or ctx is cancelled.
func (s *roleStarter) Start(ctx context.Context, name string) (int, error) {
	p := s.p.Load()
	o := project.RunOptions{StopTimeout: s.grace, Background: true, Pod: s.pods, Via: "watch"}
	if s.out != nil {
		w, done, err := s.out.Pipe(name)
		if err != nil {
			return exitNook, err
		}
		o.Out = w
		defer func() {
			w.Close()
			<-done // the role's last lines are out before the next run's
		}()
	}
	return p.Run(ctx, p.Env.Roles[name], o)
}
