package project

import (
	"fmt"
	"slices"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/rootless"
)

// Role is the role called name.
func (p *Project) Role(name string) (*env.Role, error) {
	r, ok := p.Env.Roles[name]
	if !ok {
		return nil, unknownRole(p.Env, name)
	}
	return r, nil
}

// WithDependencies returns names and their dependencies, direct and
// indirect, each once, every role after the roles it depends on.
func (p *Project) WithDependencies(names []string) ([]string, error) {
	e := p.Env
	var out []string
	var add func(string) error
	add = func(n string) error {
		if slices.Contains(out, n) {
			return nil
		}
		r, ok := e.Roles[n]
		if !ok {
			return unknownRole(e, n)
		}
		for _, d := range r.DependsOn {
			if err := add(d); err != nil {
				return err
			}
		}
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := add(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpRoles are the roles nook up runs: those named, or those with ports or
// a restart policy, with their dependencies, dependencies first.
func (p *Project) UpRoles(names []string) ([]string, error) {
	e := p.Env
	if len(names) == 0 {
		for _, n := range e.RoleNames() {
			if e.Roles[n].LongRunning() {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return nil, usageError{
				msg:  fmt.Sprintf("%s: no role publishes ports or has a restart policy", e.File),
				hint: "name the roles: nook up ROLE...",
			}
		}
	}
	return p.WithDependencies(names)
}

// CheckPorts checks every host port the roles publish before any starts.
func (p *Project) CheckPorts(roles []string) error {
	var ports []rootless.Port
	for _, n := range roles {
		ports = append(ports, rolePorts(p.Env.Roles[n])...)
	}
	if len(ports) == 0 {
		return nil
	}
	run, err := runDir()
	if err != nil {
		return err
	}
	return rootless.CheckPorts(ports, run)
}

func unknownRole(e *env.Env, name string) error {
	return usageError{
		msg:  fmt.Sprintf("%s has no role %q", e.File, name),
		hint: fmt.Sprintf("roles: %v", e.RoleNames()),
	}
}

// usageError is a request the project cannot satisfy as asked, with the
// way to ask.
type usageError struct {
	msg  string
	hint string
}

func (e usageError) Error() string { return e.msg }
func (e usageError) Hint() string  { return e.hint }
