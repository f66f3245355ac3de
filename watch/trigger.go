package watch

import (
	"maps"
	"slices"
)

// Trigger is one burst of changes, or several bursts merged while the
// consumer had not received the first.
type Trigger struct {
	// Names are the rules concerned, in the order of Options.Rules, after ""
	// when one of Options.Always changed. When the kernel dropped events
	// (see MaxQueuedEvents), every rule is named, and "" too if there are
	// Always paths.
	Names []string
	// Files are the changed paths that concern a rule or are Always paths:
	// project-relative, slash-separated, sorted and deduplicated. A file that
	// appeared and disappeared within a burst is left out. A directory that
	// was moved away is named itself, since its files went with it unseen.
	Files []string
}

// Has reports whether the trigger names the rule.
func (t Trigger) Has(name string) bool { return slices.Contains(t.Names, name) }

// pending gathers the bursts that the consumer has not received yet.
type pending struct {
	files      map[string]struct{}
	rules      map[int]struct{} // indexes into Options.Rules
	always     bool             // an Always path changed
	everything bool             // events were lost: every rule

	built *Trigger // the Trigger for the state above, built on demand
}

func (p *pending) empty() bool {
	return len(p.files) == 0 && len(p.rules) == 0 && !p.always && !p.everything
}

// add records one changed path and what it concerns.
func (p *pending) add(file string, rules []int, always bool) {
	if p.files == nil {
		p.files, p.rules = map[string]struct{}{}, map[int]struct{}{}
	}
	p.files[file] = struct{}{}
	for _, i := range rules {
		p.rules[i] = struct{}{}
	}
	p.always = p.always || always
	p.built = nil
}

// loseEvents marks that changes may have gone unseen.
func (p *pending) loseEvents() {
	p.everything = true
	p.built = nil
}

// trigger returns the Trigger of what is pending; names are the rules' names
// and hasAlways whether there are Always paths.
func (p *pending) trigger(names []string, hasAlways bool) Trigger {
	if p.built != nil {
		return *p.built
	}
	t := Trigger{Files: slices.Sorted(maps.Keys(p.files))}
	if p.always || (p.everything && hasAlways) {
		t.Names = append(t.Names, "")
	}
	for i, name := range names {
		if _, ok := p.rules[i]; ok || p.everything {
			t.Names = append(t.Names, name)
		}
	}
	p.built = &t
	return t
}

// reset empties the pending state once the consumer has the Trigger.
func (p *pending) reset() { *p = pending{} }
