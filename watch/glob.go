package watch

import (
	"errors"
	"fmt"
	"strings"
)

// Glob is a compiled path pattern, relative to the project directory, with
// the syntax of .gitignore lines: `*`, `?` and `[…]` match within one path
// segment, a `**` segment matches any number of segments (as the last segment,
// one or more), a pattern without a slash (other than a trailing one) matches
// in any directory, a leading `/` anchors it to the project directory, a
// trailing `/` matches directories only.
//
// A path matches when the pattern matches it or one of its parent
// directories: `src` matches `src/main.go`, `*.py` matches `a/b.py`.
type Glob struct {
	text    string
	pat     pattern
	dirOnly bool // a trailing slash: only directories, so only a path's parents
}

// ParseGlob compiles a glob; it fails on an unclosed `[`, a trailing `\`, a
// `..` segment and an empty pattern.
func ParseGlob(text string) (*Glob, error) {
	p, dirOnly, err := compilePattern(text)
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", text, err)
	}
	return &Glob{text: text, pat: p, dirOnly: dirOnly}, nil
}

// Match reports whether the project-relative, slash-separated path of a file
// (or one of its parent directories) matches the glob.
func (g *Glob) Match(path string) bool { return g.match(splitPath(path), false) }

// match is Match on a split path that may be a directory.
func (g *Glob) match(segs []string, isDir bool) bool {
	if g.dirOnly && !isDir && len(segs) > 0 {
		segs = segs[:len(segs)-1]
	}
	return g.pat.matchPrefix(segs)
}

// under says whether some, or all, paths below the directory segs match.
func (g *Glob) under(segs []string) (some, all bool) { return g.pat.under(segs) }

// String returns the glob as it was written.
func (g *Glob) String() string { return g.text }

// maxSegments bounds a pattern's length so that the matcher's state fits in
// one machine word.
const maxSegments = 63

// pattern is a glob split into path segments; it matches by running a small
// NFA over a path's segments, one bit of state per pattern segment.
type pattern []segment

// segment is one slash-free piece of a pattern.
type segment struct {
	text string
	kind segmentKind
}

type segmentKind uint8

const (
	literal  segmentKind = iota // compared as a string
	wildcard                    // matched by matchSegment
	anyDepth                    // "**": any number of segments
)

// compilePattern parses a pattern and reports whether it had a trailing
// slash (in .gitignore: directories only).
func compilePattern(text string) (pattern, bool, error) {
	s := text
	dirOnly := strings.HasSuffix(s, "/")
	s = strings.TrimRight(s, "/")
	anchored := strings.Contains(s, "/")
	var p pattern
	if !anchored {
		p = append(p, segment{text: "**", kind: anyDepth})
	}
	parts := 0
	for part := range strings.SplitSeq(s, "/") {
		if part != "" && part != "." {
			parts++
		}
		switch {
		case part == "" || part == ".":
			continue
		case part == "..":
			return nil, false, errors.New("a pattern cannot reach outside the project with ..")
		case part == "**":
			if len(p) > 0 && p[len(p)-1].kind == anyDepth {
				continue
			}
			p = append(p, segment{text: part, kind: anyDepth})
		case hasMeta(part):
			if err := checkSegment(part); err != nil {
				return nil, false, err
			}
			p = append(p, segment{text: part, kind: wildcard})
		default:
			p = append(p, segment{text: part, kind: literal})
		}
	}
	if parts == 0 {
		return nil, false, errors.New("empty pattern")
	}
	if len(p) > maxSegments {
		return nil, false, fmt.Errorf("more than %d segments", maxSegments)
	}
	return p, dirOnly, nil
}

// matches reports whether segment i matches one path segment.
func (p pattern) matches(i int, s string) bool {
	switch p[i].kind {
	case literal:
		return p[i].text == s
	case wildcard:
		return matchSegment(p[i].text, s)
	}
	return true
}

// start is the NFA state before any segment is consumed.
func (p pattern) start() uint64 { return p.closure(1) }

// closure adds the states reachable without consuming a segment: a `**`
// that is not last may match zero segments.
func (p pattern) closure(st uint64) uint64 {
	for i := range p {
		if st&(1<<i) != 0 && p[i].kind == anyDepth && i+1 < len(p) {
			st |= 1 << (i + 1)
		}
	}
	return st
}

// step consumes one path segment.
func (p pattern) step(st uint64, s string) uint64 {
	var next uint64
	for i := range p {
		if st&(1<<i) == 0 {
			continue
		}
		if p[i].kind == anyDepth {
			next |= 1 << i // absorb s and stay
			if i == len(p)-1 {
				next |= 1 << len(p) // a last `**` has matched at least one segment
			}
			continue
		}
		if p.matches(i, s) {
			next |= 1 << (i + 1)
		}
	}
	return p.closure(next)
}

// accepts reports whether the state has matched the whole pattern.
func (p pattern) accepts(st uint64) bool { return st&(1<<len(p)) != 0 }

// match reports whether the pattern matches exactly these segments.
func (p pattern) match(segs []string) bool {
	st := p.start()
	for _, s := range segs {
		if st = p.step(st, s); st == 0 {
			return false
		}
	}
	return p.accepts(st)
}

// matchPrefix reports whether the pattern matches segs or one of its
// leading parts (a parent directory).
func (p pattern) matchPrefix(segs []string) bool {
	st := p.start()
	for _, s := range segs {
		if st = p.step(st, s); st == 0 {
			return false
		}
		if p.accepts(st) {
			return true
		}
	}
	return false
}

// under says what the pattern can do with paths below the directory segs:
// some of them may match (some, or the directory itself matched), or all of
// them do (a trailing `**`, or the directory itself matched).
func (p pattern) under(segs []string) (some, all bool) {
	st := p.start()
	for _, s := range segs {
		if st = p.step(st, s); st == 0 {
			return false, false
		}
		if p.accepts(st) {
			return true, true
		}
	}
	last := len(p) - 1
	all = st&(1<<last) != 0 && p[last].kind == anyDepth
	some = st&((1<<len(p))-1) != 0 // a state short of the end can go on matching
	return some, all
}

// splitPath splits a project-relative slash path into segments; "" is the
// project directory itself.
func splitPath(rel string) []string {
	if rel == "" {
		return nil
	}
	return strings.Split(rel, "/")
}

// joinPath joins a project-relative directory and a name.
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
