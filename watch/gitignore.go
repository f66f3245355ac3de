package watch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ignoreRule is one pattern line of a .gitignore file.
type ignoreRule struct {
	pat     pattern
	negate  bool // a leading "!": re-include what an earlier line excluded
	dirOnly bool // a trailing "/": directories only
}

// parseIgnore reads the lines of a .gitignore file as git does: blank lines
// and "#" comments are skipped, trailing spaces dropped unless quoted with
// "\", a leading "!" negates; lines that do not compile are skipped.
func parseIgnore(data string) []ignoreRule {
	var rules []ignoreRule
	for line := range strings.Lines(data) {
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		line = trimTrailingSpaces(line)
		if line == "" || line[0] == '#' {
			continue
		}
		negate := line[0] == '!'
		if negate {
			line = line[1:]
		}
		p, dirOnly, err := compilePattern(line)
		if err != nil {
			continue
		}
		rules = append(rules, ignoreRule{pat: p, negate: negate, dirOnly: dirOnly})
	}
	return rules
}

// trimTrailingSpaces drops the spaces that end a line, keeping one quoted
// with a backslash.
func trimTrailingSpaces(s string) string {
	for strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\\ ") {
		s = s[:len(s)-1]
	}
	return s
}

// scopedRules are the rules of an ignore file outside the project directory,
// with the path from that file's directory down to the project directory.
type scopedRules struct {
	prefix []string
	rules  []ignoreRule
}

// ignoreSet holds the ignore rules that apply to a project: those read from
// above it (the enclosing repository's .git/info/exclude and the .gitignore
// files between the repository's top and the project) and the project's own
// .gitignore files, by directory.
type ignoreSet struct {
	outer []scopedRules           // lowest precedence first
	dirs  map[string][]ignoreRule // project-relative directory → its .gitignore
}

// ignored reports whether the project-relative path is excluded: it has a
// ".git" segment, or it or one of its parent directories matches a rule.
func (s *ignoreSet) ignored(rel string, isDir bool) bool {
	segs := splitPath(rel)
	for k := 1; k <= len(segs); k++ {
		if segs[k-1] == ".git" || s.excluded(segs[:k], k < len(segs) || isDir) {
			return true
		}
	}
	return false
}

// excluded applies the rules to one path, its parents not considered: the
// last matching rule wins, deeper .gitignore files after shallower ones.
func (s *ignoreSet) excluded(segs []string, isDir bool) bool {
	res := false
	apply := func(rules []ignoreRule, path []string) {
		for _, r := range rules {
			if (!r.dirOnly || isDir) && r.pat.match(path) {
				res = !r.negate
			}
		}
	}
	for _, o := range s.outer {
		apply(o.rules, append(slices.Clip(o.prefix), segs...))
	}
	if len(s.dirs) == 0 {
		return res
	}
	for d := range segs {
		if rules, ok := s.dirs[strings.Join(segs[:d], "/")]; ok {
			apply(rules, segs[d:])
		}
	}
	return res
}

// load reads the .gitignore of a project directory, or forgets it when the
// directory holds none.
func (s *ignoreSet) load(root, dir string) {
	rules, ok := readIgnoreFile(filepath.Join(root, filepath.FromSlash(dir), ".gitignore"))
	if !ok {
		delete(s.dirs, dir)
		return
	}
	s.dirs[dir] = rules
}

// forget drops the .gitignore files of dir and the directories below it.
func (s *ignoreSet) forget(dir string) {
	for d := range s.dirs {
		if d == dir || strings.HasPrefix(d, dir+"/") {
			delete(s.dirs, d)
		}
	}
}

// readIgnoreFile reads an ignore file; like git, it does not follow a
// symbolic link.
func readIgnoreFile(path string) ([]ignoreRule, bool) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	return parseIgnore(string(data)), true
}

// outerRules finds the git repository that encloses root, when root is not
// its top, and reads the ignore files that apply to root from above: the
// repository's .git/info/exclude and the .gitignore files of the directories
// from the top down to root's parent. A .git/info/exclude in root itself is
// read too.
func outerRules(root string) []scopedRules {
	var ancestors []string // root's parent first
	top := ""
	for dir := root; ; {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			top = dir
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
		ancestors = append(ancestors, dir)
	}
	prefix := func(dir string) []string {
		rel, err := filepath.Rel(dir, root)
		if err != nil || rel == "." {
			return nil
		}
		return strings.Split(filepath.ToSlash(rel), "/")
	}
	var outer []scopedRules
	if rules, ok := readIgnoreFile(filepath.Join(top, ".git", "info", "exclude")); ok {
		outer = append(outer, scopedRules{prefix: prefix(top), rules: rules})
	}
	for _, dir := range slices.Backward(ancestors) {
		if rules, ok := readIgnoreFile(filepath.Join(dir, ".gitignore")); ok {
			outer = append(outer, scopedRules{prefix: prefix(dir), rules: rules})
		}
	}
	return outer
}
