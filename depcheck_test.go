// Package nook_test keeps nook's packages in their stages: data flows
// env → layers → rootfs → mounts → rootless, and nothing imports cmd.
package nook_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
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
	"cmd/nook-init":      {"rootless"},
	"cmd/nook-manifests": {"export/manifests"},
	"env":                {"templates", "internal/safefile"},
	"layers":             {"internal/safefile"},
	"mounts":             {}, // nook-init links it: nothing of ours
	"rootfs":             {"env", "layers", "mounts"},
	"rootless":           {"mounts", "cgroups", "internal/safefile", "internal/companion"},
	"doctor":             {"env", "layers", "build", "rootless", "cgroups", "watch", "runstate", "internal/safefile"},
	"cgroups":            {},
	"templates":          {},
	"internal/testimage": {},
	"bench/mkimage":      {"internal/testimage"},
	"bench/registry":     {"internal/testimage"},
	"watch":              {},
	"supervise":          {"env"},
	"build":              {"env", "layers", "mounts", "rootfs", "rootless"},
	"runstate":           {"internal/safefile"},
	"project":            {"env", "layers", "build", "mounts", "rootfs", "rootless", "runstate", "supervise", "watch", "cgroups", "internal/safefile"},
	"export":             {"env", "layers", "project", "rootless", "watch", "export/workload", "internal/companion"},
	"export/workload":    {"env", "internal/companion"},
	"export/manifests":   {"env", "rootless", "export/workload", "internal/companion"},
	"internal/safefile":  {},
	"internal/companion": {},
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

// initLinks are the only packages outside the standard library that
// nook-init may link: it starts at every nook run, and each package linked
// adds its initialisers and its size to that start. Nothing that pulls,
// parses nook.toml, builds or exports belongs in it.
var initLinks = []string{
	module + "cmd/nook-init",
	module + "rootless",
	module + "mounts",
	module + "cgroups",
	module + "internal/safefile",
	module + "internal/companion",
	"golang.org/x/sys/unix",
	"golang.org/x/term",
	"github.com/rootless-containers/rootlesskit/v2/pkg/", // the port driver, for the pod
	"github.com/containernetworking/plugins/pkg/ns",
}

// initRefuses are standard packages nook-init must not link either: the
// HTTP and TLS stack, regular expressions, compression.
var initRefuses = []string{"net/http", "crypto/tls", "crypto/x509", "regexp", "compress"}

func TestInitLinksLittle(t *testing.T) {
	for _, p := range linked(t, "./cmd/nook-init", module+"rootless") {
		std := !strings.Contains(strings.Split(p, "/")[0], ".")
		if (!std && !slices.ContainsFunc(initLinks, under(p))) || (std && slices.ContainsFunc(initRefuses, under(p))) {
			t.Errorf("nook-init links %s: keep it out of rootless and mounts (or out of the code they import)", p)
		}
	}
}

// under returns whether a package path or prefix ("…/") covers p.
func under(p string) func(string) bool {
	return func(prefix string) bool {
		return p == prefix || strings.HasSuffix(prefix, "/") && strings.HasPrefix(p, prefix) ||
			strings.HasPrefix(p, prefix+"/")
	}
}

// linked lists the packages pkg links (go list -deps), failing the test
// unless sure, a package pkg surely links, is among them.
func linked(t *testing.T, pkg, sure string) []string {
	t.Helper()
	deps := goListDeps(t, pkg)
	if !slices.Contains(deps, sure) {
		t.Fatalf("go list -deps %s does not list %s: %v", pkg, sure, deps)
	}
	return deps
}

// goListDeps lists the packages pkg links, itself included.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// nookRefuses are the libraries nook's own binary must not link: those of
// the manifests, which nook-manifests links instead (their initialisers
// compile regular expressions and build tables at every start).
var nookRefuses = []string{"k8s.io/", "sigs.k8s.io/", "github.com/compose-spec/", "github.com/distribution/reference", "github.com/json-iterator/go"}

func TestNookLinksNoManifestLibraries(t *testing.T) {
	for _, p := range linked(t, "./cmd/nook", module+"export") {
		if slices.ContainsFunc(nookRefuses, under(p)) {
			t.Errorf("nook links %s: the manifests' libraries belong in nook-manifests (package manifests) alone", p)
		}
	}
}
