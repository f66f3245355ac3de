package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/nookenv/nook/build"
	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/rootless"
)

// environment returns environment x of the project, built, with the id
// map the project's roles run under (the full map when the user config
// asks for it and something needs it, see rolesIDMap), building what is
// missing first, as `nook build` would (SPEC §5), and writing nook.lock
// when it is missing or out of date. A warm call reads nook.lock (once per
// command) and one environment record: no network, no pull, no step.
func (p *Project) environment(ctx context.Context, store *layers.Store, x *env.Environment, progress io.Writer, o BuildOptions) (*layers.Snapshot, rootless.IDMap, error) {
	s, err := p.settings()
	if err != nil {
		return nil, "", err
	}
	if snap, err := build.Lookup(store, p.Env, x, s.lock.Current(), s.lookupIDMap()); err == nil {
		return snap, s.idmap, nil
	}
	res, err := buildEnv(ctx, store, p.Env, x, s.lock, s.user, o, progress)
	if err != nil {
		return nil, "", err
	}
	return res.Snapshot, s.idmap, nil
}

// settings are what every environment of one command is looked up or
// built with: nook.lock, read once and shared by the builds, and the id
// map of the project's roles.
type settings struct {
	lock  *build.Lock
	idmap rootless.IDMap  // the roles' (rolesIDMap)
	user  *env.UserConfig // the user config, when rolesIDMap read it
}

// lookupIDMap is the id-map mode environments with build steps were built
// under: the user config's, which is the full map exactly when the roles
// run under it (rolesIDMap).
func (s *settings) lookupIDMap() string {
	if s.idmap == rootless.IDMapFull {
		return env.IDMapFull
	}
	return env.IDMapSingle
}

// settings reads nook.lock and works out the roles' id map on first use.
// A lock that cannot be written is a warning (a run in a read-only
// checkout still runs) unless Build asked first.
func (p *Project) settings() (*settings, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.set != nil {
		return p.set, nil
	}
	lock, err := layers.ReadLock(build.LockPath(p.Env))
	if err != nil {
		return nil, err
	}
	s := &settings{}
	if s.idmap, s.user, err = rolesIDMap(p.Env); err != nil {
		return nil, err
	}
	s.lock = build.NewLock(build.LockPath(p.Env), lock, !p.strictLock)
	p.set = s
	return s, nil
}

// rolesIDMap is the id map e's roles run under: the full map when the user
// config asks for it and e needs it — an environment with build steps
// (whose files then belong to subordinate ids), a role whose user is not
// root, or a role on an image of its own (whose user, or its entrypoint's,
// may be another) — else the single-id map. Only then is the user config
// read, and returned (nil otherwise).
func rolesIDMap(e *env.Env) (rootless.IDMap, *env.UserConfig, error) {
	if !slices.ContainsFunc(e.Environments(), (*env.Environment).Steps) && !slices.ContainsFunc(e.RoleNames(), func(n string) bool {
		r := e.Roles[n]
		return r.Own != nil || !rootless.RootUser(r.User)
	}) {
		return rootless.IDMapSingle, nil, nil
	}
	u, err := env.LoadUserConfig(env.UserConfigPath())
	if err != nil {
		return "", nil, err
	}
	if u.IDMap == env.IDMapFull {
		return rootless.IDMapFull, u, nil
	}
	return rootless.IDMapSingle, u, nil
}

// BuildOptions are `nook build`'s options.
type BuildOptions struct {
	Update  bool // re-resolve the image and the packages, rewrite the lock
	Offline bool // never touch the network
	// pullLines reports pulls as lines rather than a progress bar: for
	// several environments built at once.
	pullLines bool
}

// buildEnv builds environment x of project e and writes nook.lock (lock,
// which the builds of one command share) as soon as an entry of it
// changes (the image's, the packages'), so that a build that fails later
// keeps them. user is the user config when already loaded (nil: load it).
// Steps' output and pull progress go to progress.
func buildEnv(ctx context.Context, store *layers.Store, e *env.Env, x *env.Environment, lock *build.Lock, user *env.UserConfig, f BuildOptions, progress io.Writer) (*build.Result, error) {
	if user == nil {
		var err error
		if user, err = env.LoadUserConfig(env.UserConfigPath()); err != nil {
			return nil, err
		}
	}
	if user.IDMap == env.IDMapFull && x.Steps() {
		if _, _, err := rootless.SubIDs(); err != nil {
			return nil, err
		}
	}
	stall, err := pullStallTimeout()
	if err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &build.Builder{
		Store:      store,
		Pull:       layers.PullOptions{Registries: registries(user), StallTimeout: stall},
		IDMap:      user.IDMap,
		Update:     f.Update,
		Offline:    f.Offline,
		Out:        progress,
		ResolvConf: hostResolvConf(),
		Remove:     removeBuildDir,
	}
	if f.pullLines {
		b.Pull.Progress = pullLines(progress)
	} else if bar := newProgressBar(progress); bar != nil {
		b.Pull.Progress = bar.update
		defer bar.finish()
	}
	res, err := b.Build(ctx, e, x, lock)
	if err != nil {
		if x.Name != "" {
			err = &EnvironmentError{Role: x.Name, Err: err}
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return nil, errors.Join(err, ctx.Err())
		}
		return nil, err
	}
	return res, nil
}

// PullOptions are the options of pulls as the user config sets them: its
// registries' mirrors and insecure settings, and $NOOK_PULL_STALL_TIMEOUT.
func PullOptions() (layers.PullOptions, error) {
	u, err := env.LoadUserConfig(env.UserConfigPath())
	if err != nil {
		return layers.PullOptions{}, err
	}
	stall, err := pullStallTimeout()
	if err != nil {
		return layers.PullOptions{}, err
	}
	return layers.PullOptions{Registries: registries(u), StallTimeout: stall}, nil
}

// EnvironmentError is a failed build of a role's own environment.
type EnvironmentError struct {
	Role string
	Err  error
}

func (e *EnvironmentError) Error() string {
	return fmt.Sprintf("the environment of role %s: %v", e.Role, e.Err)
}

func (e *EnvironmentError) Unwrap() error { return e.Err }

// registries converts the user config's registry settings for layers.
func registries(u *env.UserConfig) map[string]layers.Registry {
	out := make(map[string]layers.Registry, len(u.Registries))
	for host, r := range u.Registries {
		out[host] = layers.Registry{Mirrors: r.Mirrors, Insecure: r.Insecure}
	}
	return out
}

// removeBuildDir removes what a failed or finished build step left, which
// under the full id map may hold files of subordinate ids.
func removeBuildDir(path string) error {
	return rootless.RemoveAll(path)
}

// stallTimeoutVar names the environment variable that sets how long a
// registry may send nothing before a pull gives up on it.
const stallTimeoutVar = "NOOK_PULL_STALL_TIMEOUT"

// pullStallTimeout is the stall timeout $NOOK_PULL_STALL_TIMEOUT sets;
// zero means layers.DefaultStallTimeout.
func pullStallTimeout() (time.Duration, error) {
	v := os.Getenv(stallTimeoutVar)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usageError{msg: fmt.Sprintf("%s=%q: not a positive duration", stallTimeoutVar, v), hint: "for example NOOK_PULL_STALL_TIMEOUT=5m"}
	}
	return d, nil
}
