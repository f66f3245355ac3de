package export

import (
	"fmt"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/export/workload"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/project"
	"github.com/nookenv/nook/rootless"
)

// OCI annotation keys (image-spec annotations.md).
const (
	annCreated    = "org.opencontainers.image.created"
	annSource     = "org.opencontainers.image.source"
	annRevision   = "org.opencontainers.image.revision"
	annTitle      = "org.opencontainers.image.title"
	annBaseName   = "org.opencontainers.image.base.name"
	annBaseDigest = "org.opencontainers.image.base.digest"
	annRefName    = "org.opencontainers.image.ref.name"
)

// Created is the creation time of an export: SOURCE_DATE_EPOCH (Unix
// seconds) when set, as reproducible builds agree, else the Unix epoch.
// Either way the same project and environment give the same image
// whenever they are exported. File times later than it are clamped to it.
func Created(getenv func(string) string) (time.Time, error) {
	v := getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// imageConfig is the config of the image of role's environment: the
// image's env under nook.toml's and the role's (as the role sees them,
// but HOSTNAME, which the engine sets), the role's working directory,
// command and user, its ports as exposed ports, and the annotations as
// labels. The created time is the export's.
func imageConfig(e *env.Env, role *env.Role, snap *layers.Snapshot, created time.Time, annotations map[string]string) (v1.ConfigFile, error) {
	plat, err := v1.ParsePlatform(layers.HostPlatform()) // nook builds for the host
	if err != nil {
		return v1.ConfigFile{}, err
	}
	// The role's process as nook runs it (project.RoleProcess): on the
	// project's environment its command and no entrypoint; on an image of
	// its own the image's entrypoint (or the role's) in front of its
	// command or the image's cmd, in its workdir, as its user.
	proc, err := project.RoleProcess(e, role, snap.Config, nil)
	if err != nil {
		return v1.ConfigFile{}, err
	}
	c := v1.Config{
		Env:        workload.ConfigEnv(snap.Config.Env, role),
		WorkingDir: proc.Workdir,
		Labels:     annotations,
		Cmd:        proc.Args[len(proc.Entrypoint):],
	}
	if len(proc.Entrypoint) > 0 {
		c.Entrypoint = proc.Entrypoint
	}
	if u := proc.User; !rootless.RootUser(u) && u != rootless.HostUser {
		c.User = u
	} else if snap.Config.User != "" {
		c.User = "0" // user = "host" is you on this machine: elsewhere, root
	}
	for _, p := range role.Ports {
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		c.ExposedPorts[fmt.Sprintf("%d/%s", p.RolePort, p.Proto)] = struct{}{}
	}
	return v1.ConfigFile{
		Created:      v1.Time{Time: created},
		Architecture: plat.Architecture,
		OS:           plat.OS,
		Variant:      plat.Variant,
		Config:       c,
	}, nil
}

// annotationsFor are the OCI annotations of the image: its creation time,
// the project's title, its git revision and origin when it has them, and
// the base image when it comes from a registry.
func annotationsFor(e *env.Env, snap *layers.Snapshot, created time.Time, g gitInfo) map[string]string {
	a := map[string]string{
		annCreated: created.Format(time.RFC3339),
		annTitle:   e.Project,
	}
	if g.revision != "" {
		a[annRevision] = g.revision
	}
	if g.origin != "" {
		a[annSource] = g.origin
	}
	if ref, err := layers.ParseReference(e.Image); err == nil && ref.Kind == layers.KindRegistry {
		a[annBaseName] = ref.String()
		if snap.Digest != "" {
			a[annBaseDigest] = snap.Digest
		}
	}
	return a
}
