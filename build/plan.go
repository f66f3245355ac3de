package build

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nookenv/nook/layers"
)

// Input is what a plan depends on: nothing else goes into the keys.
type Input struct {
	Platform string            // "linux/amd64"
	Digest   string            // the image's manifest digest
	Manager  *Manager          // the image's package manager; nil when there are no packages
	Packages []string          // declared packages, as nook.toml lists them
	Versions map[string]string // pinned versions by package (nook.lock); missing: unpinned
	Setup    []string          // setup steps, in order
	Env      []string          // the environment the steps see from nook.toml, "KEY=VALUE"
	IDMap    string            // the id-map mode the steps run under
}

// Step is one build step and the layer it makes.
type Step struct {
	Kind   string // layers.KindPackages or layers.KindSetup
	Text   string // what the user sees and what is hashed: a setup line, or "apt-get install hello=2.10-3"
	Script string // what /bin/sh -c runs
	Parent string // the key of the layer below (layers.BaseKey for the first step)
	Key    string // the layer's key (layers.LayerKey)

	packages []string          // the packages step's package names, sorted
	versions map[string]string // the versions it pins, by package
}

// Plan is a project's environment as an ordered list of steps on its image.
type Plan struct {
	Base  string // layers.BaseKey of the image
	Steps []Step
	// Pinned is false when the packages step installs a package the lock
	// has no version of: its key is then provisional, and the layer is
	// stored under the key of the versions installed (see Builder).
	Pinned bool
	// Top is the environment's key: its top step's key, or for an image
	// without steps a key derived from the image alone.
	Top string
}

// MakePlan computes the steps and their keys. It is pure: no disk, no
// network, so a warm build is a hash per step and one record read.
func MakePlan(in Input) (*Plan, error) {
	if in.Digest == "" {
		return nil, errors.New("planning the build: the image has no digest")
	}
	p := &Plan{Base: layers.BaseKey(in.Platform, in.Digest), Pinned: true}
	parent := p.Base
	if len(in.Packages) > 0 {
		if in.Manager == nil {
			return nil, errors.New("planning the build: packages but no package manager")
		}
		names := slices.Clone(in.Packages)
		slices.Sort(names)
		names = slices.Compact(names)
		args := make([]string, len(names))
		for i, n := range names {
			v := in.Versions[n]
			if v == "" {
				p.Pinned = false
			}
			args[i] = in.Manager.arg(n, v)
		}
		text := in.Manager.Name + " install " + strings.Join(args, " ")
		key := layers.LayerKey(parent, layers.KindPackages, text, in.Env, in.IDMap)
		p.Steps = append(p.Steps, Step{
			Kind: layers.KindPackages, Text: text, Script: in.Manager.script(names, args),
			Parent: parent, Key: key, packages: names, versions: maps.Clone(in.Versions),
		})
		parent = key
	}
	for _, s := range in.Setup {
		key := layers.LayerKey(parent, layers.KindSetup, s, in.Env, in.IDMap)
		p.Steps = append(p.Steps, Step{Kind: layers.KindSetup, Text: s, Script: s, Parent: parent, Key: key})
		parent = key
	}
	p.Top = parent
	if len(p.Steps) == 0 {
		// No layer of ours: the environment is the image's, named by a key
		// that no step can produce.
		p.Top = layers.LayerKey(p.Base, "image", "", nil, "")
	}
	return p, nil
}

// label is how the step is announced: "[2/4] setup: make tools".
func (p *Plan) label(i int) string {
	return fmt.Sprintf("%s %s: %s", p.prefix(i), p.Steps[i].Kind, firstLine(p.Steps[i].Text))
}

// prefix is the step's output prefix, "[2/4]".
func (p *Plan) prefix(i int) string {
	return fmt.Sprintf("[%d/%d]", i+1, len(p.Steps))
}

// firstLine is s up to its first newline, with " …" when more follows.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
