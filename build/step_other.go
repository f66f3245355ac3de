//go:build !linux

package build

import (
	"context"
	"errors"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// runStep needs Linux's namespaces and overlayfs.
func (b *Builder) runStep(context.Context, *env.Env, *Plan, int, *layers.Snapshot, []string, string, string, []string) error {
	return errors.New("build steps run on Linux only")
}

// stepNetwork: steps do not run here.
func (b *Builder) stepNetwork() *stepNet { return &stepNet{} }
