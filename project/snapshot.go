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

// environment returns the project's built environment, building what is
// missing first, as `nook build` would (SPEC §5), and writing nook.lock
// when it is missing or out of date, with the id map its roles run under:
// the full map when its steps were built under it (their files belong to
// subordinate ids), else the single-id map. A warm call reads nook.lock and
// one environment record: no network, no pull, no step.
func environment(ctx context.Context, store *layers.Store, e *env.Env, progress io.Writer) (*layers.Snapshot, rootless.IDMap, error) {
	lock, err := layers.ReadLock(build.LockPath(e))
	if err != nil {
		return nil, "", err
	}
	var user *env.UserConfig
	roles, err := rolesIDMap(e, &user)
	if err != nil {
		return nil, "", err
	}
	idmap := env.IDMapSingle
	if roles == rootless.IDMapFull {
		idmap = env.IDMapFull
	}
	if snap, err := build.Lookup(store, e, lock, idmap); err == nil {
		return snap, roles, nil
	}
	res, err := buildEnv(ctx, store, e, lock, user, BuildOptions{lockOptional: true}, progress)
	if err != nil {
		return nil, "", err
	}
	return res.Snapshot, roles, nil
}

// rolesIDMap is the id map e's roles run under: the full map when the user
// config asks for it and e has build steps (whose files then belong to
// subordinate ids) or a role whose user is not root, else the single-id
// map. Only then is the user config read; it is stored in *user when user
// is not nil.
func rolesIDMap(e *env.Env, user **env.UserConfig) (rootless.IDMap, error) {
	if len(e.Packages) == 0 && len(e.Setup) == 0 && !slices.ContainsFunc(e.RoleNames(), func(n string) bool {
		return !rootless.RootUser(e.Roles[n].User)
	}) {
		return rootless.IDMapSingle, nil
	}
	u, err := env.LoadUserConfig(env.UserConfigPath())
	if err != nil {
		return "", err
	}
	if user != nil {
		*user = u
	}
	if u.IDMap == env.IDMapFull {
		return rootless.IDMapFull, nil
	}
	return rootless.IDMapSingle, nil
}

// BuildOptions are `nook build`'s options.
type BuildOptions struct {
	Update  bool // re-resolve the image and the packages, rewrite the lock
	Offline bool // never touch the network
	// lockOptional makes a lock that cannot be written a warning: a run
	// in a read-only checkout still runs.
	lockOptional bool
}

// buildEnv builds e's environment and writes nook.lock as soon as an entry
// of it changes (the image's, the packages'), so that a build that fails
// later keeps them.
// user is the user config when already loaded (nil: load it). Steps'
// output and pull progress go to progress.
func buildEnv(ctx context.Context, store *layers.Store, e *env.Env, lock *layers.Lock, user *env.UserConfig, f BuildOptions, progress io.Writer) (*build.Result, error) {
	if user == nil {
		var err error
		if user, err = env.LoadUserConfig(env.UserConfigPath()); err != nil {
			return nil, err
		}
	}
	if user.IDMap == env.IDMapFull && (len(e.Packages) > 0 || len(e.Setup) > 0) {
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
		Store:        store,
		Pull:         layers.PullOptions{Registries: registries(user), StallTimeout: stall},
		IDMap:        user.IDMap,
		Update:       f.Update,
		Offline:      f.Offline,
		Out:          progress,
		ResolvConf:   hostResolvConf(),
		Remove:       removeBuildDir,
		LockPath:     build.LockPath(e),
		LockOptional: f.lockOptional,
	}
	if bar := newProgressBar(progress); bar != nil {
		b.Pull.Progress = bar.update
		defer bar.finish()
	}
	res, err := b.Build(ctx, e, lock)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return nil, errors.Join(err, ctx.Err())
		}
		return nil, err
	}
	return res, nil
}

// PullOptions are the options of pulls as the user config sets them: its
// registries' mirrors and insecure settings.
func PullOptions() (layers.PullOptions, error) {
	u, err := env.LoadUserConfig(env.UserConfigPath())
	if err != nil {
		return layers.PullOptions{}, err
	}
	return layers.PullOptions{Registries: registries(u)}, nil
}

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
