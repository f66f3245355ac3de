package project

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/internal/safefile"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/mounts"
	"github.com/nookenv/nook/rootfs"
	"github.com/nookenv/nook/rootless"
	"github.com/nookenv/nook/runstate"
)

// launch describes one process to start in the project's environment.
type launch struct {
	env   *env.Env
	role  *env.Role
	vars  []string // KEY=VALUE over the role's environment (-e)
	args  []string // appended to the role's command
	shell bool     // an interactive shell instead of the role's command

	// For roles run alongside others (nook watch): ctx stops the process
	// (SIGTERM, then SIGKILL after stopTimeout; zero is rootless's default),
	// and background gives it no terminal and /dev/null as stdin.
	ctx         context.Context // nil: context.Background()
	stopTimeout time.Duration
	background  bool

	// For roles run by nook up: out receives the role's stdout and stderr
	// (nil: nook's own), and portsChecked says that up checked every
	// published port before it started anything.
	out          *os.File
	portsChecked bool
	// started, when set, is called once the role's command runs.
	started func()

	// Shared by the roles one command runs: pod is the command's
	// connection to the project's pod (nil: join it for this run), built
	// the role's environment (see Project.built).
	pod   *PodJoiner
	built *built

	// print receives nook's own lines.
	print Printer
	// via names the command in the run's record (RunOptions.Via).
	via string
}

// built is one environment of the project (x) as roles run in it: the
// store, the snapshot and the roles' id map (see Project.environment). The
// roles of one command share it, so that it is looked up (or built) once.
type built struct {
	p *Project
	x *env.Environment

	mu    sync.Mutex // held by ensure: roles starting at once wait for one build
	store *layers.Store
	snap  *layers.Snapshot
	idmap rootless.IDMap
}

// ensure opens the store and looks up (or builds) the environment, its
// output on the project's Progress (a role's own prefixed with its name,
// as eachEnvironment does), unless b holds it already.
func (b *built) ensure(ctx context.Context) error {
	return b.p.eachEnvironment([]*env.Environment{b.x}, func(_ *env.Environment, out io.Writer, lines bool) error {
		return b.ensureWith(ctx, out, BuildOptions{pullLines: lines})
	})
}

// ensureWith is ensure with the build's output on progress and the pulls
// reported as o says. A failure leaves b empty: the next call tries again.
func (b *built) ensureWith(ctx context.Context, progress io.Writer, o BuildOptions) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.snap != nil {
		return nil
	}
	store, err := OpenStore()
	if err != nil {
		return err
	}
	snap, idmap, err := b.p.environment(ctx, store, b.x, progress, o)
	if err != nil {
		return err
	}
	b.store, b.snap, b.idmap = store, snap, idmap
	return nil
}

// start builds what is missing, plans the mounts and runs the process,
// returning its exit status; with an error, the status nook should end
// with (125 for nook's own failures, as rootless.Run returns them).
func (l launch) start() (int, error) {
	b := l.built
	// A build serves every role of the command: one role's stop does not
	// cancel it.
	if err := b.ensure(context.Background()); err != nil {
		return exitNook, err
	}
	if len(l.role.Volumes) > 0 {
		// Builds record their project; a project that never builds (the
		// "host" base) is recorded here, so that its volumes are listed
		// by its directory and gc --volumes knows when it is gone.
		if err := b.store.RecordProject(l.env.ProjectID, l.env.ProjectDir, l.env.File); err != nil {
			return exitNook, err
		}
	}
	ports := rolePorts(l.role)
	if len(ports) > 0 && !l.portsChecked {
		run, err := runDir()
		if err != nil {
			return exitNook, err
		}
		if err := rootless.CheckPorts(ports, run); err != nil {
			return exitNook, err
		}
	}
	ctx := l.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if !inPod(l.role) {
		spec, err := l.spec(b, hostResolvConf())
		if err != nil {
			return exitNook, err
		}
		spec.IDMap = b.idmap
		return l.ended(l.idmapHint(b)(rootless.Run(ctx, spec, l.stdio())))
	}
	pods := l.pod
	if pods == nil {
		pods = &PodJoiner{env: l.env, print: l.print}
		defer pods.Close()
	}
	pod, err := pods.join(b.idmap)
	if err != nil {
		return exitNook, err
	}
	spec, err := l.spec(b, pod.ResolvConf())
	if err != nil {
		return exitNook, err
	}
	return l.ended(l.idmapHint(b)(pod.Run(ctx, spec, l.stdio(), ports)))
}

// inPod reports whether a role runs in the project's pod: every role on
// the private network does, to share its loopback, outbound link and
// published ports. Roles on the host's network or on none share nothing
// and start directly (ports of a host role are the host's own).
func inPod(r *env.Role) bool { return r.Network == env.NetworkPrivate }

// PodJoiner joins the project's pod once, for every role run through it,
// and says the pod's notice once: the roles one command runs share it.
type PodJoiner struct {
	env   *env.Env
	print Printer

	mu  sync.Mutex
	pod *rootless.Pod
}

// join connects to the project's pod, starting it under idmap (the id
// map of the project's roles, rolesIDMap) if none runs.
func (j *PodJoiner) join(idmap rootless.IDMap) (*rootless.Pod, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.pod != nil {
		return j.pod, nil
	}
	dir, err := runstate.MakePodDir(env.RunDir(), j.env.ProjectID)
	if err != nil {
		return nil, err
	}
	pod, err := rootless.JoinPod(rootless.PodOptions{Dir: dir, Project: j.env.ProjectID, Name: j.env.Project,
		Outbound: true, IDMap: idmap})
	if err != nil {
		return nil, err
	}
	if n := pod.Notice(); n != "" {
		j.print.Line("nook: notice: " + n)
	}
	j.pod = pod
	return pod, nil
}

// Close lets the pod end once its roles have.
func (j *PodJoiner) Close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.pod != nil {
		j.pod.Close()
		j.pod = nil
	}
}

// stdio are the streams the process gets.
func (l launch) stdio() rootless.Stdio {
	s := rootless.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	if l.background {
		s.In = nil
	}
	if l.out != nil {
		s.Out, s.Err = l.out, l.out
	}
	return s
}

// rolePorts are the role's published ports as the pod takes them.
func rolePorts(r *env.Role) []rootless.Port {
	var out []rootless.Port
	for _, p := range r.Ports {
		out = append(out, rootless.Port{HostIP: p.HostIP, HostPort: int(p.HostPort), RolePort: int(p.RolePort), Proto: p.Proto, Role: r.Name})
	}
	return out
}

// run is start recorded in the run state while it lasts, so that nook ps
// lists it and nook stop can end it.
func (l launch) run() (int, error) {
	grace := l.stopTimeout
	if grace <= 0 {
		grace = rootless.DefaultStopTimeout
	}
	done, err := l.built.p.recordRun(l.role, l.shell, cmp.Or(l.via, "run"), grace)
	var unsafe *safefile.UnsafeError
	switch {
	case errors.As(err, &unsafe):
		return exitNook, err // nothing runs with a run state someone else may control
	case err != nil:
		l.print.Line(fmt.Sprintf("nook: warning: %v", err))
	default:
		defer done()
	}
	return l.start()
}

// spec turns the launch into what nook's init needs, in environment b.
// A user other than root needs the full id map.
func (l launch) spec(b *built, resolvConf []byte) (*rootless.Spec, error) {
	r, err := withSSHAgent(l.role)
	if err != nil {
		return nil, err
	}
	proc, err := RoleProcess(l.env, r, b.snap.Config, l.args)
	if err != nil && !l.shell {
		return nil, err
	}
	if !rootless.RootUser(proc.User) && proc.User != rootless.HostUser && b.idmap != rootless.IDMapFull {
		return nil, userError{role: r.Name, user: proc.User, image: r.User == "" && r.Own != nil}
	}
	var you *mounts.User
	if proc.User == rootless.HostUser {
		if you, err = hostUser(); err != nil {
			return nil, err
		}
	}
	run := *r
	run.Workdir = proc.Workdir // made in the new root when the image lacks it
	plan, err := rootfs.Plan(l.env, &run, b.snap, rootfs.Options{
		Scratch:    b.store.ScratchDir(),
		VolumesDir: b.store.VolumesDir(l.env.ProjectID),
		ResolvConf: resolvConf,
		User:       you,
	})
	if err != nil {
		return nil, err
	}
	if proc.ArgsUnused {
		l.print.Line(fmt.Sprintf(`nook: notice: the command of role %s has several lines and does not use "$@": the arguments are its $1, $2, … only`, r.Name))
	}
	tty := term.IsTerminal(int(os.Stdin.Fd()))
	if r.Tty != nil {
		tty = *r.Tty
	}
	if l.background {
		tty = false // several roles share the terminal, and ^C must stay nook's
	}
	return &rootless.Spec{
		Plan:        plan,
		Hostname:    l.env.Hostname,
		NewNet:      r.Network != env.NetworkHost,
		Role:        r.Name,
		StopTimeout: l.stopTimeout,
		Limits:      roleLimits(r, l.print),
		Started:     l.started,
		Process: rootless.Process{
			Args:  proc.Args,
			Env:   processEnv(l.env, r, l.vars, b.snap, tty),
			Cwd:   proc.Workdir,
			Tty:   tty,
			Shell: l.shell,
			User:  proc.User,
		},
	}, nil
}

// processEnv is the role's environment (env.ProcessEnv) with TERM set on a
// terminal and vars (-e) over the role's own.
func processEnv(e *env.Env, r *env.Role, vars []string, snap *layers.Snapshot, tty bool) []string {
	var extra []string
	if tty {
		t := os.Getenv("TERM")
		if t == "" {
			t = "xterm"
		}
		extra = []string{"TERM=" + t}
	}
	if len(vars) > 0 {
		vars = slices.Concat(r.Vars, vars)
	} else {
		vars = r.Vars
	}
	return env.ProcessEnv(snap.Config.Env, e.Hostname, extra, vars)
}

// hostUser is you, as a role with user = "host" runs: your name, ids and
// home ($HOME, else your passwd entry's, else /home/NAME), which the plan
// gives the role's root when its image has no entry for your uid.
func hostUser() (*mounts.User, error) {
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("looking up who you are for user = \"host\": %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("looking up who you are for user = \"host\": uid %q, gid %q", u.Uid, u.Gid)
	}
	home := os.Getenv("HOME")
	if !filepath.IsAbs(home) || filepath.Clean(home) != home || home == "/" {
		home = u.HomeDir
	}
	if !filepath.IsAbs(home) || home == "/" {
		home = "/home/" + u.Username
	}
	return &mounts.User{Name: u.Username, UID: uint32(uid), GID: uint32(gid), Home: filepath.Clean(home)}, nil
}

// hostResolvConf is the host's resolver configuration, for builds and for
// roles outside the pod (on the host's network, or on none).
func hostResolvConf() []byte {
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	return b
}

// userError refuses a role user other than root under the single-id map:
// the role's own, or its image's (image).
type userError struct {
	role, user string
	image      bool
}

func (e userError) Error() string {
	if e.image {
		return fmt.Sprintf("role %s: its image runs as user %q, and only root can run under nook's single-id map (you outside are root inside)", e.role, e.user)
	}
	return fmt.Sprintf("role %s: user %q: only root can run under nook's single-id map (you outside are root inside)", e.role, e.user)
}

func (e userError) Hint() string {
	if e.image {
		return `map your subordinate ids: idmap = "full" in ` + env.UserConfigPath() + `; or run it as root: user = "root" on the role`
	}
	return `remove "user" from the role, use user = "host" (you, with your own ids), or map your subordinate ids: idmap = "full" in ` + env.UserConfigPath()
}
