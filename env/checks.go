package env

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// The checks that span fields: they run after every field is decoded and
// report each problem at the later of the two places involved.

func byPosition(a, b position) int {
	return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
}

// checkTargets reports two mounts, volumes or the project directory at the
// same target: within the top level, and within each role's merged set
// (top level plus the role's own).
func (d *projectDecoder) checkTargets() {
	top := slices.Clone(d.targets[""])
	slices.SortStableFunc(top, func(a, b target) int { return byPosition(a.pos, b.pos) })
	d.duplicateTargets(nil, top)
	for _, role := range d.roleOrder {
		own := slices.Clone(d.targets[role])
		slices.SortStableFunc(own, func(a, b target) int { return byPosition(a.pos, b.pos) })
		d.duplicateTargets(top, own)
	}
}

// duplicateTargets reports each target in own that is also in inherited or
// earlier in own.
func (d *projectDecoder) duplicateTargets(inherited, own []target) {
	for i, t := range own {
		for _, other := range inherited {
			if other.path == t.path {
				desc, hint := "the top-level "+other.desc, "a role's mounts and volumes add to the top-level ones; choose another target"
				if other.isProject {
					desc, hint = other.desc, projectHint
				}
				d.failAt(t.pos, t.key, hint, "%q is already the target of %s%s", t.path, desc, lineOf(other.pos))
				break
			}
		}
		for _, other := range own[:i] {
			if other.path == t.path {
				hint := ""
				if other.isProject {
					hint = projectHint
				}
				d.failAt(t.pos, t.key, hint, "%q is already the target of %s%s", t.path, other.desc, lineOf(other.pos))
				break
			}
		}
	}
}

const projectHint = "the project directory is mounted at workdir; choose another target or set workdir"

// lineOf names a line for a message, or nothing for a default value.
func lineOf(p position) string {
	if p.Line == 0 {
		return ""
	}
	return fmt.Sprintf(" at line %d", p.Line)
}

// checkPorts reports a host port published twice, by one role or two, with
// the same protocol on overlapping host addresses.
func (d *projectDecoder) checkPorts() {
	for i, p := range d.ports {
		for _, other := range d.ports[:i] {
			if p.port.Proto != other.port.Proto || p.port.HostPort != other.port.HostPort || !overlaps(p.port.HostIP, other.port.HostIP) {
				continue
			}
			by := "this role"
			if other.role != p.role {
				by = "role " + other.role
			}
			d.failAt(p.pos, p.key, "each host port can be published once; choose another HOST_PORT",
				"host port %d/%s is already published by %s (%s%s)", p.port.HostPort, p.port.Proto, by, other.port, lineOf(other.pos))
			break
		}
	}
}

// checkDependencies reports unknown roles, a role depending on itself or on
// a role twice, and dependency cycles.
func (d *projectDecoder) checkDependencies(c *Config) {
	names := d.roleOrder
	for _, name := range names {
		key := []string{"roles", name, "depends_on"}
		seen := map[string]bool{}
		for i, dep := range c.Roles[name].DependsOn {
			switch {
			case dep == name:
				d.failElem(key, i, "", "role %s depends on itself", name)
			case c.Roles[dep] == nil:
				hint := ""
				if near := nearest(dep, names); near != "" {
					hint = fmt.Sprintf("did you mean %q?", near)
				}
				d.failElem(key, i, hint, "unknown role %q; the roles are %s", dep, strings.Join(names, ", "))
			case seen[dep]:
				d.failElem(key, i, "", "%s is listed twice", dep)
			}
			seen[dep] = true
		}
	}
	d.checkCycles(c)
}

// checkCycles finds every dependency cycle by depth-first search, reporting
// each at the depends_on entry that closes it.
func (d *projectDecoder) checkCycles(c *Config) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		state[name] = visiting
		stack = append(stack, name)
		for i, dep := range c.Roles[name].DependsOn {
			if c.Roles[dep] == nil || dep == name {
				continue // reported above
			}
			switch state[dep] {
			case unvisited:
				visit(dep)
			case visiting:
				cycle := append(slices.Clone(stack[slices.Index(stack, dep):]), dep)
				d.failElem([]string{"roles", name, "depends_on"}, i, "remove one of these dependencies",
					"dependency cycle: %s", strings.Join(cycle, " → "))
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
	}
	for _, name := range d.roleOrder {
		if state[name] == unvisited {
			visit(name)
		}
	}
}
