package env

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Resolve applies the defaults to a Config from Load and returns the
// project's immutable Env. It makes no system calls: everything it needs
// from the machine, Load captured.
func Resolve(c *Config) (*Env, error) {
	if c == nil {
		return nil, errors.New("resolving the project: no configuration")
	}
	if !filepath.IsAbs(c.ProjectDir) {
		return nil, fmt.Errorf("resolving %s: the project directory %q is not absolute", c.File, c.ProjectDir)
	}
	if c.Image == "" {
		return nil, fmt.Errorf("resolving %s: no image", c.File)
	}
	project := filepath.Base(c.ProjectDir)
	sum := sha256.Sum256([]byte(c.ProjectDir))
	e := &Env{
		File:       c.Path,
		ProjectDir: c.ProjectDir,
		Project:    project,
		ProjectID:  hex.EncodeToString(sum[:])[:12],
		Image:      absImage(c.Image, c.ProjectDir),
		ImageRef:   c.Image,
		Packages:   slices.Clone(c.Packages),
		Setup:      slices.Clone(c.Setup),
		Workdir:    cmp.Or(c.Workdir, DefaultWorkdir),
		Hostname:   cmp.Or(c.Hostname, sanitiseHostname(project)),
		Volumes:    slices.Clone(c.Volumes),
		Roles:      make(map[string]*Role, len(c.Roles)),
	}
	top := maps.Clone(c.EnvFileVars)
	if top == nil {
		top = map[string]string{}
	}
	maps.Copy(top, c.Env)
	e.Vars = varList(top)
	var err error
	if e.Mounts, err = c.absMounts(c.Mounts); err != nil {
		return nil, err
	}
	for name, rc := range c.Roles {
		r, err := c.resolveRole(e, top, name, rc)
		if err != nil {
			return nil, err
		}
		e.Roles[name] = r
	}
	return e, nil
}

// resolveRole merges a role with the top level and applies its defaults.
func (c *Config) resolveRole(e *Env, top map[string]string, name string, rc *RoleConfig) (*Role, error) {
	if len(rc.Command) == 0 && (rc.Image == "" || rc.Image == ImageHost && rc.Entrypoint == nil) {
		return nil, fmt.Errorf("resolving %s: role %s has no command", c.File, name)
	}
	vars := maps.Clone(top)
	maps.Copy(vars, rc.Env)
	own, err := c.absMounts(rc.Mounts)
	if err != nil {
		return nil, err
	}
	var ready *Ready
	if rc.Ready != nil {
		ready = &Ready{Port: rc.Ready.Port}
	}
	var tty *bool
	if rc.Tty != nil {
		t := *rc.Tty
		tty = &t
	}
	r := &Role{
		Name:      name,
		Command:   slices.Clone(rc.Command),
		Shell:     rc.Shell,
		Vars:      varList(vars),
		Workdir:   cmp.Or(rc.Workdir, e.Workdir),
		Mounts:    slices.Concat(e.Mounts, own),
		Volumes:   slices.Concat(e.Volumes, rc.Volumes),
		Ports:     slices.Clone(rc.Ports),
		Network:   cmp.Or(rc.Network, NetworkPrivate),
		DependsOn: slices.Clone(rc.DependsOn),
		Restart:   cmp.Or(rc.Restart, RestartNo),
		Ready:     ready,
		Watch:     slices.Clone(rc.Watch),
		Ignore:    slices.Clone(rc.Ignore),
		User:      cmp.Or(rc.User, DefaultUser),
		Tty:       tty,
		Limits:    rc.Limits,
		SSHAgent:  rc.SSHAgent,
	}
	if rc.Image != "" {
		// The image's workdir and user, unless the role names its own.
		r.Workdir, r.User = rc.Workdir, rc.User
		r.Entrypoint = slices.Clone(rc.Entrypoint)
		r.Own = &Environment{Name: name, Image: absImage(rc.Image, c.ProjectDir), ImageRef: rc.Image,
			Packages: slices.Clone(rc.Packages), Setup: slices.Clone(rc.Setup)}
	}
	return r, nil
}

// DefaultRole returns the role `nook exec` and `nook shell` use when no role
// is named: the top-level env, mounts and volumes, the project's workdir,
// a private network and no command. Its Name is empty. Each call returns a
// new Role the caller may change.
func (e *Env) DefaultRole() *Role {
	return &Role{
		Vars:    slices.Clone(e.Vars),
		Workdir: e.Workdir,
		Mounts:  slices.Clone(e.Mounts),
		Volumes: slices.Clone(e.Volumes),
		Network: NetworkPrivate,
		Restart: RestartNo,
		User:    DefaultUser,
	}
}

// absMounts makes mount sources absolute: ~ and ~/… from the home
// directory Load captured, relative paths from the project directory.
func (c *Config) absMounts(ms []Mount) ([]Mount, error) {
	out := make([]Mount, len(ms))
	for i, m := range ms {
		switch {
		case m.Source == "~" || strings.HasPrefix(m.Source, "~/"):
			if c.Home == "" {
				return nil, fmt.Errorf("resolving mount %s:%s: the home directory is unknown ($HOME is not set)", m.Source, m.Target)
			}
			m.Source = filepath.Join(c.Home, strings.TrimPrefix(m.Source, "~"))
		case !filepath.IsAbs(m.Source):
			m.Source = filepath.Join(c.ProjectDir, m.Source)
		default:
			m.Source = filepath.Clean(m.Source)
		}
		out[i] = m
	}
	return out, nil
}

// varList turns an environment map into sorted KEY=VALUE strings.
func varList(vars map[string]string) []string {
	out := make([]string, 0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		out = append(out, k+"="+vars[k])
	}
	return out
}

// sanitiseHostname makes a host name of a directory name: lowercase, runs
// of anything but [a-z0-9] turned into one -, no - at either end, at most
// 63 characters; "nook" if nothing is left.
func sanitiseHostname(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		return "nook"
	}
	return s
}

// absImage makes the path of an oci: or docker-archive: image absolute,
// relative to the project directory, so the project runs from anywhere
// (`nook -C DIR`). A tag after the path's last colon stays as it is.
func absImage(image, projectDir string) string {
	for _, prefix := range []string{ImageOCIPrefix, ImageArchivePrefix} {
		if rest, ok := strings.CutPrefix(image, prefix); ok && !filepath.IsAbs(rest) {
			return prefix + filepath.Join(projectDir, rest)
		}
	}
	return image
}
