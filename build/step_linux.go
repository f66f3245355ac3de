package build

import (
	"context"
	"fmt"
	"os"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/rootfs"
	"github.com/nookenv/nook/rootless"
)

// runStep runs step i of p on the layers lowers (bottom first), with upper
// and work as the overlay's persistent upper and work directories: the
// namespaces of a role, a network namespace of its own with outbound
// traffic through slirp4netns (the host's loopback out of reach, as with
// docker build; the host's network where slirp4netns cannot run), the
// project directory mounted at its workdir, the output streamed to b.Out
// with the step's prefix. A non-zero exit is a *StepError holding the tail
// of the output.
func (b *Builder) runStep(ctx context.Context, e *env.Env, p *Plan, i int, base *layers.Snapshot, lowers []string, upper, work string, extraEnv []string) error {
	st := p.Steps[i]
	net := b.stepNetwork()
	snap := &layers.Snapshot{Ref: base.Ref, Digest: base.Digest, Lowers: lowers, Config: base.Config}
	role := &env.Role{
		Name:    "build step " + p.prefix(i),
		Command: []string{st.Script},
		Shell:   true,
		Vars:    e.Vars,
		Workdir: e.Workdir,
		Network: env.NetworkHost,
	}
	if net.own {
		role.Network = env.NetworkPrivate
	}
	plan, err := rootfs.Plan(e, role, snap, rootfs.Options{
		Scratch:    b.Store.ScratchDir(),
		VolumesDir: b.Store.VolumesDir(e.ProjectID),
		ResolvConf: net.resolv,
		Upper:      upper,
		Work:       work,
	})
	if err != nil {
		return err
	}
	spec := &rootless.Spec{
		Plan:     plan,
		Hostname: e.Hostname,
		NewNet:   net.own,
		Outbound: net.own,
		Process: rootless.Process{
			Args: []string{"/bin/sh", "-c", st.Script},
			Env:  env.ProcessEnv(base.Config.Env, e.Hostname, extraEnv, e.Vars),
			Cwd:  e.Workdir,
		},
	}
	if b.IDMap == env.IDMapFull {
		spec.IDMap = rootless.IDMapFull
	} else {
		spec.FakeOwnership = true
	}

	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("running build step %s: making its output pipe: %w", p.prefix(i), err)
	}
	t := &tail{n: tailLines}
	copied := make(chan error, 1)
	go func() {
		copied <- copyLines(b.out(), p.prefix(i), r, t)
		r.Close()
	}()
	code, err := rootless.Run(ctx, spec, rootless.Stdio{Out: w, Err: w})
	w.Close()
	<-copied // the init and everything it started are gone: the pipe ends
	if err != nil {
		return fmt.Errorf("running build step %s: %w", p.label(i), err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("build step %s: %w", p.label(i), ctx.Err())
	}
	if code != 0 {
		return &StepError{Label: p.label(i), Status: code, Tail: t.String(), Pinned: st.Kind == layers.KindPackages && len(st.versions) > 0}
	}
	return nil
}

// stepNetwork decides, at the first step that runs, how steps reach the
// network: a namespace of their own when slirp4netns can run, else the
// host's network, which nook says once.
func (b *Builder) stepNetwork() *stepNet {
	if b.network == nil {
		if why := rootless.OutboundUnavailable(); why != "" {
			fmt.Fprintf(b.out(), "nook: notice: %s: build steps use the host's network\n", why)
			b.network = &stepNet{resolv: b.ResolvConf}
		} else {
			b.network = &stepNet{own: true, resolv: rootless.OutboundResolvConf()}
		}
	}
	return b.network
}
