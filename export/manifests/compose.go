package manifests

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/export/workload"
)

// Compose writes the workload as a Compose file for a file at path: the
// roles of Up as services that share one network namespace as nook's pod
// does (`network_mode: service:OWNER`, OWNER being the first long-running
// role, which publishes every port and resolves every role name to
// 127.0.0.1), their ports, named volumes and bind mounts, depends_on with
// conditions (one-shot roles completed, roles with ready healthy),
// restart policies and a healthcheck from ready; each role of Jobs as a
// service of its own profile, started only by `docker compose run ROLE`.
func Compose(w *Workload, path string) ([]byte, []string, error) {
	e := w.Env
	var warnings []string
	p := &types.Project{Name: composeName(e.Project), Services: types.Services{}}
	owner := ""
	for _, n := range w.Up {
		if w.Role(n).LongRunning() {
			owner = n
			break
		}
	}
	// The roles OWNER depends on run before it exists: they keep their
	// own network (they are one-shot: nothing of the pod runs yet).
	ownNet := map[string]bool{owner: true}
	if owner != "" {
		for _, d := range w.Dependencies(owner) {
			ownNet[d] = true
		}
	}
	base := filepath.Dir(path)
	all := append(append([]string{}, w.Up...), w.Jobs...)
	for _, n := range all {
		r := w.Role(n)
		s := composeService(w, r, base)
		if warn := hostUserWarning(r); warn != "" {
			warnings = append(warnings, warn)
		}
		if slices.Contains(w.Jobs, n) {
			s.Profiles = []string{n}
		}
		if r.Network != env.NetworkPrivate {
			s.NetworkMode = r.Network
			if r.Network == env.NetworkHost {
				s.Ports = nil // a host role's ports are the host's own
			}
		} else if owner != "" && !ownNet[n] {
			s.NetworkMode = "service:" + owner
			own := p.Services[owner]
			own.Ports = append(own.Ports, s.Ports...)
			p.Services[owner] = own
			s.Ports = nil
			if _, ok := s.DependsOn[owner]; !ok {
				s.DependsOn[owner] = dependency(w.Role(owner))
			}
		}
		if n == owner {
			s.Hostname = e.Hostname
			s.ExtraHosts = types.HostsList{}
			for _, h := range hostNames(e) {
				s.ExtraHosts[h] = []string{"127.0.0.1"}
			}
		}
		if len(s.DependsOn) == 0 {
			s.DependsOn = nil
		}
		for _, v := range r.Volumes {
			if p.Volumes == nil {
				p.Volumes = types.Volumes{}
			}
			p.Volumes[v.Name] = types.VolumeConfig{}
		}
		if r.Limits.Pids > 0 {
			s.PidsLimit = int64(r.Limits.Pids)
		}
		p.Services[n] = s
	}
	b, err := p.MarshalYAML()
	if err != nil {
		return nil, nil, err
	}
	head := fileHeader(e, fmt.Sprintf("Run with `docker compose -f %s up` (or `podman compose`).", filepath.Base(path)))
	return append([]byte(head), b...), warnings, nil
}

// composeService is role r as a service, before the pod's network is
// shared.
func composeService(w *Workload, r *env.Role, base string) types.ServiceConfig {
	img := w.Images[r.Name]
	s := types.ServiceConfig{Name: r.Name}
	s.Image, s.DependsOn = img.Name, types.DependsOnConfig{}
	if r.Own == nil {
		s.WorkingDir = r.Workdir // a role on its own image has its workdir in the image
	}
	if cmd := roleCommand(r); cmd != nil && len(img.Entrypoint) > 0 {
		s.Entrypoint = cmd
	} else if cmd != nil {
		s.Command = cmd
	}
	if delta := envDelta(img, r); len(delta) > 0 {
		s.Environment = types.MappingWithEquals{}
		for _, kv := range delta {
			v := kv[1]
			s.Environment[kv[0]] = &v
		}
	}
	if u := roleUser(r, img); u != imageUser(img) {
		s.User = u
	}
	for _, p := range r.Ports {
		s.Ports = append(s.Ports, types.ServicePortConfig{Target: uint32(p.RolePort), Published: strconv.Itoa(int(p.HostPort)),
			HostIP: p.HostIP, Protocol: p.Proto, Mode: "ingress"})
	}
	for _, v := range r.Volumes {
		s.Volumes = append(s.Volumes, types.ServiceVolumeConfig{Type: types.VolumeTypeVolume, Source: v.Name, Target: v.Target, ReadOnly: v.ReadOnly})
	}
	for _, m := range r.Mounts {
		s.Volumes = append(s.Volumes, types.ServiceVolumeConfig{Type: types.VolumeTypeBind, Source: mountSource(w.Env, base, m), Target: m.Target, ReadOnly: m.ReadOnly})
	}
	for _, d := range r.DependsOn {
		s.DependsOn[d] = dependency(w.Role(d))
	}
	s.Restart = types.RestartPolicyNo
	switch r.Restart {
	case env.RestartAlways:
		s.Restart = types.RestartPolicyAlways
	case env.RestartOnFailure:
		s.Restart = types.RestartPolicyOnFailure
	}
	if r.Ready != nil {
		s.HealthCheck = readyCheck(r.Ready.Port)
	}
	if r.Tty != nil && *r.Tty {
		s.Tty, s.StdinOpen = true, true
	}
	if r.Limits.Memory > 0 {
		s.MemLimit = types.UnitBytes(r.Limits.Memory)
	}
	if r.Limits.CPUs > 0 {
		s.CPUS = float32(r.Limits.CPUs)
	}
	return s
}

// dependency is how a service waits for role d: a one-shot role to
// complete, a role with a ready port to be healthy, another to start.
func dependency(d *env.Role) types.ServiceDependency {
	c := types.ServiceConditionStarted
	switch {
	case !d.LongRunning():
		c = types.ServiceConditionCompletedSuccessfully
	case d.Ready != nil:
		c = types.ServiceConditionHealthy
	}
	return types.ServiceDependency{Condition: c, Required: true}
}

// readyCheck is ready.port as a healthcheck: a socket listening on the
// port, as /proc/net/tcp shows it (the pod's network is the same in every
// service), which needs only sh and grep in the image.
func readyCheck(port uint16) *types.HealthCheckConfig {
	test := fmt.Sprintf("grep -qsE '^ *[0-9]+: [0-9A-F]+:%04X [0-9A-F]+:[0-9A-F]+ 0A ' /proc/net/tcp /proc/net/tcp6", port)
	interval, timeout := types.Duration(time.Second), types.Duration(time.Second)
	retries := uint64(120)
	return &types.HealthCheckConfig{Test: types.HealthCheckTest{"CMD-SHELL", test}, Interval: &interval, Timeout: &timeout, Retries: &retries}
}

// composeName is the project name as Compose takes it: lower case,
// letters, digits, '-' and '_', starting with a letter or digit.
func composeName(s string) string { return workload.DNSLabel(s) }
