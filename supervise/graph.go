package supervise

import (
	"context"
	"fmt"
	"slices"
)

// Role is one role to supervise.
type Role struct {
	Name        string
	LongRunning bool     // serves rather than finishes: started and left running
	DependsOn   []string // roles that start before it; names outside the set are ignored
	// Restart is the role's restart policy: env.RestartOnFailure starts
	// it again when it exits with a non-zero status on its own,
	// env.RestartAlways whenever it exits on its own; "" or env.RestartNo
	// never. A run the Starter could not start (an error) is not restarted.
	Restart string
	// Ready, when set, waits until a run of a long-running role is ready
	// (returning nil) or ctx ends; its dependants start only then. nil: a
	// role is ready once it is started.
	Ready func(ctx context.Context) error
}

// graph is the roles by name, with their dependants.
type graph struct {
	roles      map[string]Role
	order      []string            // every role, dependencies before dependants
	dependants map[string][]string // direct dependants within the set
}

func newGraph(roles []Role) (*graph, error) {
	g := &graph{roles: map[string]Role{}, dependants: map[string][]string{}}
	for _, r := range roles {
		if _, dup := g.roles[r.Name]; dup {
			return nil, fmt.Errorf("supervising roles: role %s given twice", r.Name)
		}
		g.roles[r.Name] = r
	}
	for _, r := range roles {
		for _, d := range r.DependsOn {
			if _, ok := g.roles[d]; ok {
				g.dependants[d] = append(g.dependants[d], r.Name)
			}
		}
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("supervising roles: dependency cycle %v", append(path, name))
		case 2:
			return nil
		}
		state[name] = 1
		for _, d := range g.roles[name].DependsOn {
			if _, ok := g.roles[d]; ok {
				if err := visit(d, append(path, name)); err != nil {
					return err
				}
			}
		}
		state[name] = 2
		g.order = append(g.order, name)
		return nil
	}
	for _, r := range roles {
		if err := visit(r.Name, nil); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// withDependants is names and every role that depends on one of them,
// directly or not; unknown names are left out.
func (g *graph) withDependants(names []string) map[string]bool {
	set := map[string]bool{}
	var add func(string)
	add = func(n string) {
		if _, ok := g.roles[n]; !ok || set[n] {
			return
		}
		set[n] = true
		for _, d := range g.dependants[n] {
			add(d)
		}
	}
	for _, n := range names {
		add(n)
	}
	return set
}

// sorted lists the set in dependency order.
func (g *graph) sorted(set map[string]bool) []string {
	return slices.DeleteFunc(slices.Clone(g.order), func(n string) bool { return !set[n] })
}
