package env

import "strings"

// Environment is what one environment of a project is built from: an
// image, and the packages and setup steps on it. A project has its own
// (the top-level image, packages and setup; Name ""), and each role that
// sets image has one of its own, named after the role.
type Environment struct {
	Name     string   // "" for the project's; the role's name for a role's own
	Image    string   // as Env.Image: oci: and docker-archive: paths absolute
	ImageRef string   // the image exactly as nook.toml writes it (what nook.lock records)
	Packages []string // OS packages, in declared order
	Setup    []string // setup steps, in declared order
}

// Steps reports whether the environment has anything to build on its
// image: packages or setup steps.
func (x *Environment) Steps() bool { return len(x.Packages) > 0 || len(x.Setup) > 0 }

// Describe names the environment for messages: "the project's environment"
// or "the environment of role db".
func (x *Environment) Describe() string {
	if x.Name == "" {
		return "the project's environment"
	}
	return "the environment of role " + x.Name
}

// ProjectEnvironment is the project's own environment: the top-level
// image, packages and setup.
func (e *Env) ProjectEnvironment() *Environment {
	return &Environment{Image: e.Image, ImageRef: e.ImageRef, Packages: e.Packages, Setup: e.Setup}
}

// EnvironmentOf is the environment role r runs in: its own when it sets
// image, else the project's.
func (e *Env) EnvironmentOf(r *Role) *Environment {
	if r != nil && r.Own != nil {
		return r.Own
	}
	return e.ProjectEnvironment()
}

// Environments lists every environment of the project: its own first,
// then each role's own, by role name.
func (e *Env) Environments() []*Environment {
	out := []*Environment{e.ProjectEnvironment()}
	for _, n := range e.RoleNames() {
		if own := e.Roles[n].Own; own != nil {
			out = append(out, own)
		}
	}
	return out
}

// image decodes an image reference (SPEC §3) at key.
func (d *decoder) image(key []string, v any) (string, bool) {
	s, ok := d.nonEmpty(key, v)
	if !ok {
		return "", false
	}
	if err := checkImage(s); err != nil {
		d.failSpec(key, -1, err)
		return "", false
	}
	return s, true
}

// packages decodes a list of OS packages at key.
func (d *decoder) packages(key []string, v any) []string {
	return d.stringList(key, v, func(i int, s string) bool {
		if !validPackage(s) {
			d.failElem(key, i, "", "%q is not a package name", s)
			return false
		}
		return true
	})
}

// setup decodes a list of setup steps at key.
func (d *decoder) setup(key []string, v any) []string {
	return d.stringList(key, v, func(i int, s string) bool {
		if strings.TrimSpace(s) == "" {
			d.failElem(key, i, "", "setup step %d is empty", i+1)
			return false
		}
		return true
	})
}

// hostSteps refuses packages and setup (found in table m, at prefix) on
// the "host" base.
func (d *decoder) hostSteps(prefix []string, m map[string]any) {
	for _, k := range []string{"packages", "setup"} {
		if a, ok := m[k].([]any); ok && len(a) > 0 {
			d.fail(child(prefix, k), "remove "+k+", or use a registry image such as "+imageExampleRef,
				"the host base cannot take packages or setup steps")
		}
	}
}

// ownEnvironment checks what a role's own environment asks for: packages,
// setup and entrypoint only with the role's image (never on "host"), and
// a command unless the image may bring one.
func (d *projectDecoder) ownEnvironment(name string, key []string, m map[string]any, r *RoleConfig) {
	_, hasImage := m["image"]
	_, hasCommand := m["command"]
	switch {
	case !hasImage:
		for _, k := range []string{"packages", "setup"} {
			if _, ok := m[k]; ok {
				d.fail(child(key, k), "set image on the role to build its own environment, or list them at the top level for the project's",
					"a role's %s build its own image: role %s has no image (it runs in the project's environment)", k, name)
			}
		}
		if _, ok := m["entrypoint"]; ok {
			d.fail(child(key, "entrypoint"), "remove entrypoint; command is run as it is in the project's environment",
				"entrypoint replaces the entrypoint of a role's own image: role %s has no image", name)
		}
		if !hasCommand {
			d.fail(key, `e.g. command = "make test"`, "role %s has no command", name)
		}
	case r.Image == ImageHost:
		d.hostSteps(key, m)
		if _, ok := m["entrypoint"]; !ok && !hasCommand {
			d.fail(key, `e.g. command = "make test"`, "role %s has no command, and the host base has no entrypoint or cmd to run", name)
		}
	}
}
