package watch

import "testing"

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		glob string
		path string
		want bool
	}{
		{"**/*.go", "main.go", true},
		{"**/*.go", "cmd/nook/main.go", true},
		{"**/*.go", "main.golden", false},
		{"**/*.go", "docs/readme.md", false},
		{"**/*.go", ".main.go.swp", false},
		{"**/*.go", "main.go~", false},
		{"go.mod", "go.mod", true},
		{"go.mod", "tools/go.mod", true}, // no slash: any directory
		{"go.mod", "go.mod.bak", false},
		{"go.mod", "go.sum", false},
		{"/go.mod", "tools/go.mod", false}, // leading slash: anchored
		{"/go.mod", "go.mod", true},
		{"src/**", "src/a.c", true},
		{"src/**", "src/x/y/z.c", true},
		{"src/**", "src", false}, // a trailing ** needs at least one segment
		{"src/**", "lib/src/a.c", false},
		{"src/**", "srcx/a.c", false},
		{"*.py", "app.py", true},
		{"*.py", "pkg/sub/app.py", true},
		{"*.py", "app.pyc", false},
		{"*.py", "app.py/data", true}, // a directory named app.py holds the path
		{"cmd/*/main.go", "cmd/nook/main.go", true},
		{"cmd/*/main.go", "cmd/main.go", false},
		{"cmd/*/main.go", "cmd/a/b/main.go", false},
		{"cmd/*/main.go", "x/cmd/nook/main.go", false},
		{"a/**/b", "a/b", true}, // a middle ** matches zero segments too
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{"src", "src/deep/file", true}, // a parent directory matches
		{"build/", "build/out.o", true},
		{"build/", "build", false}, // a trailing slash: directories only
		{"file?.txt", "file1.txt", true},
		{"file?.txt", "file10.txt", false},
		{"[abc].go", "b.go", true},
		{"[abc].go", "d.go", false},
		{"[!abc].go", "d.go", true},
		{"[^abc].go", "a.go", false},
		{"[a-c]x", "bx", true},
		{"[[:digit:]]*.log", "1.log", true},
		{"[[:digit:]]*.log", "a.log", false},
		{`\*.go`, "*.go", true},
		{`\*.go`, "a.go", false},
		{"**", "anything/at/all", true},
		{"./src/*.c", "src/a.c", true},
		{"día/*.txt", "día/ñ.txt", true},
		{"?.txt", "ñ.txt", true},
	}
	for _, tt := range tests {
		g, err := ParseGlob(tt.glob)
		if err != nil {
			t.Errorf("ParseGlob(%q): %v", tt.glob, err)
			continue
		}
		if got := g.Match(tt.path); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.glob, tt.path, got, tt.want)
		}
	}
}

func TestParseGlobRejects(t *testing.T) {
	for _, bad := range []string{"", "/", "[abc", `trailing\`, "../outside/*.go", "a/[/b"} {
		if g, err := ParseGlob(bad); err == nil {
			t.Errorf("ParseGlob(%q) = %v, want an error", bad, g)
		}
	}
}

// TestRuleUnder checks the decisions about directories: which need a watch
// (some path below may concern the rule) and which a rule ignores entirely.
func TestRuleUnder(t *testing.T) {
	r, err := compileRule(Rule{Name: "r", Watch: []string{"src/**/*.go", "go.mod"}, Ignore: []string{"src/gen/**", "testdata"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir  string
		want bool
	}{
		{"src", true},
		{"src/pkg", true},
		{"src/gen", false},      // everything below is ignored
		{"src/gen/deep", false}, // below an ignored directory
		{"src/testdata", false}, // "testdata" matches in any directory
		{"docs", true},          // may hold a go.mod
	}
	for _, tt := range tests {
		if got := r.mayConcernUnder(splitPath(tt.dir)); got != tt.want {
			t.Errorf("mayConcernUnder(%q) = %v, want %v", tt.dir, got, tt.want)
		}
	}
	only, err := compileRule(Rule{Name: "web", Watch: []string{"web/**"}})
	if err != nil {
		t.Fatal(err)
	}
	if only.mayConcernUnder(splitPath("docs")) {
		t.Error(`a rule watching only "web/**" needs no watch on docs/`)
	}
	if !only.mayConcernUnder(splitPath("web/a")) {
		t.Error(`a rule watching "web/**" needs a watch on web/a`)
	}
}

func TestGitignore(t *testing.T) {
	s := ignoreSet{dirs: map[string][]ignoreRule{
		"": parseIgnore("# a comment\n" +
			"\n" +
			"*.log\n" +
			"!keep.log\n" +
			"build/\n" +
			"/rootonly\n" +
			"docs/*.html\n" +
			"**/tmp/**\n" +
			`\#hash` + "\n" +
			"trailing   \n" +
			"dist\n" +
			"!dist/keep\n"),
		"sub": parseIgnore("local.txt\n/anchored\n!important.log\n"),
	}}
	tests := []struct {
		path  string
		isDir bool
		want  bool
	}{
		{"a.log", false, true},
		{"x/y/a.log", false, true},
		{"keep.log", false, false}, // negated
		{"build", true, true},
		{"build", false, false}, // a file named build: the rule is for directories
		{"build/out.o", false, true},
		{"x/build/out.o", false, true},
		{"rootonly", false, true},
		{"x/rootonly", false, false}, // anchored to the root
		{"docs/a.html", false, true},
		{"docs/sub/a.html", false, false}, // * does not cross a slash
		{"a/tmp/b", false, true},
		{"tmp/b", false, true},
		{"#hash", false, true},
		{"trailing", false, true},
		{"dist/keep", false, true}, // its directory is excluded: no way back in
		{"sub/local.txt", false, true},
		{"local.txt", false, false}, // the nested rule applies only below sub/
		{"sub/deeper/local.txt", false, true},
		{"sub/anchored", false, true},
		{"sub/x/anchored", false, false},
		{"sub/important.log", false, false}, // the deeper file re-includes it
		{".git", true, true},
		{".git/config", false, true},
		{"vendor/x/.git/HEAD", false, true},
		{"main.go", false, false},
	}
	for _, tt := range tests {
		if got := s.ignored(tt.path, tt.isDir); got != tt.want {
			t.Errorf("ignored(%q, dir=%v) = %v, want %v", tt.path, tt.isDir, got, tt.want)
		}
	}
}

// TestGitignoreOuter checks that .gitignore files above the project, up to
// the enclosing repository's top, apply to it.
func TestGitignoreOuter(t *testing.T) {
	top := t.TempDir()
	mkdirs(t, top, ".git/info", "services/api")
	writeFile(t, top, ".gitignore", "node_modules/\n/services/api/secret.txt\n")
	writeFile(t, top, ".git/info/exclude", "*.local\n")
	writeFile(t, top, "services/.gitignore", "api/cache/\n")
	s := ignoreSet{outer: outerRules(top + "/services/api")}
	for path, want := range map[string]bool{
		"node_modules":     true,
		"web/node_modules": true,
		"secret.txt":       true,
		"x/secret.txt":     false,
		"cache":            true,
		"conf.local":       true,
		"main.go":          false,
	} {
		if got := s.ignored(path, path == "node_modules" || path == "web/node_modules" || path == "cache"); got != want {
			t.Errorf("ignored(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestMatchSegment(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true},
		{"*", "abc", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"*.*.go", "a.b.go", true},
		{"*.*.go", "ab.go", false},
		{"[]]", "]", true},
		{"[]a]", "a", true},
		{"[a-]", "-", true},
		{`[\]]`, "]", true},
		{"[[:upper:]]*", "Makefile", true},
		{"[[:upper:]]*", "makefile", false},
		{"[![:space:]]", "x", true},
		{"**", "abc", true},
		{"a**b", "axxb", true},
		{"?", "é", true},
		{"??", "é", false},
	}
	for _, tt := range tests {
		if err := checkSegment(tt.pat); err != nil {
			t.Errorf("checkSegment(%q): %v", tt.pat, err)
			continue
		}
		if got := matchSegment(tt.pat, tt.s); got != tt.want {
			t.Errorf("matchSegment(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

func FuzzMatchSegment(f *testing.F) {
	for _, seed := range []string{"*.go", "[a-z]?", "[[:alpha:]]", `\[`, "[]]", "[!x-]"} {
		f.Add(seed, "abc")
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		if checkSegment(pat) != nil {
			return
		}
		matchSegment(pat, s) // must not panic or loop
		if !hasMeta(pat) && matchSegment(pat, s) != (pat == s) {
			t.Errorf("literal %q against %q: want string equality", pat, s)
		}
	})
}
