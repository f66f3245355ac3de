// Package nook_test keeps nook's packages in their stages: data flows
// env → layers → mounts → rootless, and nothing imports cmd.
package nook_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/nookenv/nook/"

// allowed lists, for every package of the module, the packages of ours its
// non-test code may import directly (STYLE.md). A new package must be added
// here: that is the moment to decide where it stands.
var allowed = map[string][]string{
	"cmd/nook":           nil, // the CLI wires every stage
	"env":                {"templates", "internal/safefile"},
	"layers":             {"internal/safefile"},
	"mounts":             {"env", "layers"},
	"rootless":           {"mounts", "cgroups", "internal/safefile"},
	"doctor":             {"env", "layers", "build", "rootless", "cgroups", "watch", "runstate", "internal/safefile"},
	"cgroups":            {},
	"templates":          {},
	"internal/testimage": {},
	"bench/mkimage":      {"internal/testimage"},
	"bench/registry":     {"internal/testimage"},
	"watch":              {},
	"supervise":          {"env"},
	"build":              {"env", "layers", "mounts", "rootless"},
	"runstate":           {"internal/safefile"},
	"project":            {"env", "layers", "build", "mounts", "rootless", "runstate", "supervise", "watch", "cgroups", "internal/safefile"},
	"export":             {"env", "layers", "project", "rootless", "watch"},
	"internal/safefile":  {},
	"internal/testpeer":  {"rootless"},
}

func TestImportDirection(t *testing.T) {
	imports := map[string]map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, spec := range f.Imports {
			p, _ := strconv.Unquote(spec.Path.Value)
			if ours, ok := strings.CutPrefix(p, module); ok {
				imports[pkg][ours] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < len(allowed)-1 {
		t.Fatalf("found only %d packages; is the test running at the module root?", len(imports))
	}
	for pkg, deps := range imports {
		may, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the import table of depcheck_test.go: decide which stages it may import", pkg)
			continue
		}
		for dep := range deps {
			if strings.HasPrefix(dep, "cmd/") {
				t.Errorf("%s imports %s: nothing imports cmd", pkg, dep)
			}
			if may != nil && !slices.Contains(may, dep) {
				t.Errorf("%s imports %s; it may import only %v", pkg, dep, may)
			}
		}
	}
}
