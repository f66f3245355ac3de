package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// snapshot returns the image's snapshot, pulling it first when the store
// does not have it yet. A warm call is one small record read: no network,
// no user config, no hashing.
func snapshot(store *layers.Store, ref string, progress io.Writer) (*layers.Snapshot, error) {
	snap, err := store.Lookup(ref)
	if err == nil || !errors.Is(err, layers.ErrNotPulled) {
		return snap, err
	}
	user, err := env.LoadUserConfig(env.UserConfigPath())
	if err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := layers.PullOptions{Registries: registries(user)}
	if bar := newProgressBar(progress); bar != nil {
		opts.Progress = bar.update
		defer bar.finish()
	}
	return store.Pull(ctx, ref, opts)
}

// registries converts the user config's registry settings for layers.
func registries(u *env.UserConfig) map[string]layers.Registry {
	out := make(map[string]layers.Registry, len(u.Registries))
	for host, r := range u.Registries {
		out[host] = layers.Registry{Mirrors: r.Mirrors, Insecure: r.Insecure}
	}
	return out
}
