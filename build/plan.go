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
	Platform string   // "linux/amd64"
	Digest   string   // the image's manifest digest
	Manager  *Manager // the image's package manager; nil when there are no packages
	Packages []string // declared packages, as nook.toml lists them
	// Versions pins packages (nook.lock): with Complete, every package the
	// packages step installs, each declared one among them; without, the
	// declared packages it has a version of.
	Versions map[string]string
	// Complete says that Versions are all the step installs (they came
	// from a step that ran): the step's key is then final.
	Complete bool
	Setup    []string // setup steps, in order
	Env      []string // the environment the steps see from nook.toml, "KEY=VALUE"
	IDMap    string   // the id-map mode the steps run under
}

// Step is one build step and the layer it makes.
type Step struct {
	Kind string // layers.KindPackages or layers.KindSetup
	// Text is what is hashed: a setup line, or the packages step's install
	// line, "apt-get install hello=2.10-3 libfoo1=1.0-1".
	Text   string
	Script string // what /bin/sh -c runs
	Parent string // the key of the layer below (layers.BaseKey for the first step)
	Key    string // the layer's key (layers.LayerKey)

	packages []string          // the packages step's declared package names, sorted
	versions map[string]string // the versions it pins, by package
	manager  string            // the packages step's manager
	shown    string            // how the packages step is announced: the declared packages and how many more it pins
}

// Plan is a project's environment as an ordered list of steps on its image.
type Plan struct {
	Base  string // layers.BaseKey of the image
	Steps []Step
	// Pinned is set when the packages step's key is final: it pins every
	// package it installs (Input.Complete, each declared one pinned).
	// Otherwise the key is provisional, and the layer is stored under the
	// key of what the step installed (see Builder).
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
		st := packagesStep(in, parent)
		p.Pinned = in.Complete && len(st.versions) == len(installArgs(in))
		p.Steps = append(p.Steps, st)
		parent = st.Key
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

// packagesStep is the packages step of in on the layer parent.
func packagesStep(in Input, parent string) Step {
	names := slices.Compact(slices.Sorted(slices.Values(in.Packages)))
	all := installArgs(in)
	args := make([]string, len(all))
	versions := map[string]string{}
	for i, n := range all {
		v := in.Versions[n]
		if v != "" {
			versions[n] = v
		}
		args[i] = in.Manager.arg(n, v)
	}
	text := in.Manager.Name + " install " + strings.Join(args, " ")
	declared := make([]string, len(names))
	for i, n := range names {
		declared[i] = in.Manager.arg(n, in.Versions[n])
	}
	shown := in.Manager.Name + " install " + strings.Join(declared, " ")
	if more := len(all) - len(names); more > 0 {
		shown += fmt.Sprintf(" (and %d more they need, pinned)", more)
	}
	return Step{
		Kind: layers.KindPackages, Text: text, Script: in.Manager.script(args),
		Parent: parent, Key: layers.LayerKey(parent, layers.KindPackages, text, in.Env, in.IDMap),
		packages: names, versions: versions, manager: in.Manager.Name, shown: shown,
	}
}

// installArgs are the packages the packages step of in names, sorted: the
// declared ones, and with a complete set of versions every one pinned.
func installArgs(in Input) []string {
	all := slices.Clone(in.Packages)
	if in.Complete {
		all = slices.AppendSeq(all, maps.Keys(in.Versions))
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// resolutionKey is the key of in's packages step with nothing pinned (it
// depends on the image, the manager, the declared names, the env and the
// id map): the record of what an earlier run of the same step installed is
// found by it (see Builder).
func resolutionKey(in Input) string {
	in.Versions, in.Complete = nil, false
	return packagesStep(in, layers.BaseKey(in.Platform, in.Digest)).Key
}

// label is how the step is announced: "[2/4] setup: make tools".
func (p *Plan) label(i int) string {
	st := p.Steps[i]
	text := st.Text
	if st.shown != "" {
		text = st.shown
	}
	return fmt.Sprintf("%s %s: %s", p.prefix(i), st.Kind, firstLine(text))
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
