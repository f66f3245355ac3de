package watch

import "fmt"

// Rule says which paths concern one subscriber (a role): a path concerns it
// when it matches one of the Watch globs and none of the Ignore globs, is not
// excluded by a .gitignore and is not under .git/. The globs are relative to
// the project directory; see Glob for their syntax.
type Rule struct {
	Name   string   // the subscriber, reported in Trigger.Names
	Watch  []string // globs of the paths that concern it
	Ignore []string // globs of paths that never concern it, in addition to .git/ and .gitignore
}

// rule is a Rule with its globs compiled.
type rule struct {
	name          string
	watch, ignore []*Glob
}

func compileRule(r Rule) (rule, error) {
	c := rule{name: r.Name}
	for _, text := range r.Watch {
		g, err := ParseGlob(text)
		if err != nil {
			return rule{}, fmt.Errorf("rule %s: watch %w", r.Name, err)
		}
		c.watch = append(c.watch, g)
	}
	for _, text := range r.Ignore {
		g, err := ParseGlob(text)
		if err != nil {
			return rule{}, fmt.Errorf("rule %s: ignore %w", r.Name, err)
		}
		c.ignore = append(c.ignore, g)
	}
	return c, nil
}

// concerns reports whether a changed file (or directory) concerns the rule,
// .gitignore aside.
func (r *rule) concerns(segs []string, isDir bool) bool {
	if isDir {
		return r.mayConcernUnder(segs)
	}
	return matchesAny(r.watch, segs) && !matchesAny(r.ignore, segs)
}

// mayConcernUnder reports whether a path below the directory segs may
// concern the rule: it decides which directories need a watch, and whether a
// directory that moved away took files of the rule with it.
func (r *rule) mayConcernUnder(segs []string) bool {
	some := false
	for _, g := range r.watch {
		if s, _ := g.under(segs); s {
			some = true
			break
		}
	}
	if !some {
		return false
	}
	for _, g := range r.ignore {
		if _, all := g.under(segs); all {
			return false
		}
	}
	return true
}

func matchesAny(globs []*Glob, segs []string) bool {
	for _, g := range globs {
		if g.match(segs, false) {
			return true
		}
	}
	return false
}
