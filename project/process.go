package project

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/rootless"
)

// Process is how a role's command runs in its environment.
type Process struct {
	Args    []string // argv
	Workdir string   // the working directory inside
	User    string   // who it runs as ("" or "root": root inside, you outside)
	// Entrypoint is the part of Args that is an entrypoint (the image's,
	// or the role's own entrypoint key), empty when there is none; the
	// rest of Args is the image's cmd or the role's command.
	Entrypoint []string
	// ArgsUnused is set when a string command of several lines never
	// looks at the args passed to it (env.Role.CommandLine).
	ArgsUnused bool
}

// RoleProcess is how role r of project e runs, with args from the command
// line, in an environment whose image config is cfg (Environment's
// Snapshot.Config). A role in the project's environment runs its command
// (args appended: SPEC §5) in its workdir as its user; the project image's
// entrypoint, cmd, workdir and user play no part. A role on an image of
// its own runs as `docker run` runs that image: its entrypoint (the
// role's entrypoint key replaces it) followed by the role's command — or,
// without one, by args or else the image's cmd (which the role's
// entrypoint key drops, as Docker's --entrypoint does) — in the role's
// workdir, else the image's WorkingDir, else the project's workdir, as the
// role's user, else the image's User.
func RoleProcess(e *env.Env, r *env.Role, cfg layers.ImageConfig, args []string) (Process, error) {
	if r.Own == nil {
		argv, unused := r.CommandLine(args)
		return Process{Args: argv, Workdir: r.Workdir, User: r.User, ArgsUnused: unused}, nil
	}
	entry := cfg.Entrypoint
	if r.Entrypoint != nil {
		entry = r.Entrypoint
	}
	var cmd []string
	unused := false
	switch {
	case r.Command != nil:
		cmd, unused = r.CommandLine(args)
	case len(args) > 0:
		cmd = args
	case r.Entrypoint == nil:
		cmd = cfg.Cmd
	}
	p := Process{
		Args:       slices.Concat(entry, cmd),
		Workdir:    cmp.Or(r.Workdir, cfg.WorkingDir, e.Workdir),
		User:       cmp.Or(r.User, cfg.User),
		Entrypoint: entry,
		ArgsUnused: unused,
	}
	if len(p.Args) == 0 {
		// The rest holds for a shell, which needs no command.
		return p, noCommandError{role: r.Name, image: r.Own.ImageRef}
	}
	return p, nil
}

// noCommandError is a role without a command on an image that has none
// either.
type noCommandError struct{ role, image string }

func (e noCommandError) Error() string {
	return fmt.Sprintf("role %s has no command, and its image %s sets no entrypoint or cmd", e.role, e.image)
}

func (e noCommandError) Hint() string {
	return fmt.Sprintf(`give role %s a command in nook.toml, e.g. command = ["server", "--port", "8080"]`, e.role)
}

// idmapHint returns what passes a run's end on, after saying — on the
// role's own stderr, so that it lands in its log under nook up — how to
// fix what most often makes a service fail under nook's single-id map: a
// role on an image of its own that ran the image's entrypoint, or serves
// (LongRunning), and failed may have needed other users (postgres's
// entrypoint chowns its data directory and drops to the postgres user
// with gosu).
func (l launch) idmapHint(b *built) func(int, error) (int, error) {
	return func(code int, err error) (int, error) {
		if err != nil || code == 0 || code >= 128 || l.shell || l.role.Own == nil || b.idmap == rootless.IDMapFull {
			return code, err
		}
		if proc, perr := RoleProcess(l.env, l.role, b.snap.Config, l.args); perr != nil || len(proc.Entrypoint) == 0 && !l.role.LongRunning() {
			return code, err
		}
		fmt.Fprintf(l.stdio().Err, "nook: hint: role %s runs on an image of its own under nook's single-id map, where root is the only user: "+
			"if it changes owners or users as it starts (chown, gosu, su, setpriv), it fails there; map your subordinate ids with idmap = \"full\" in %s\n",
			l.role.Name, env.UserConfigPath())
		return code, err
	}
}
