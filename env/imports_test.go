package env

import (
	"go/build"
	"strings"
	"testing"
)

// env is the first stage: of nook's own packages it may import only
// templates, and internal/safefile to read its input files (STYLE.md).
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range append(pkg.Imports, pkg.TestImports...) {
		if strings.HasPrefix(imp, "github.com/nookenv/nook/") && imp != "github.com/nookenv/nook/templates" && imp != "github.com/nookenv/nook/internal/safefile" {
			t.Errorf("env imports %s", imp)
		}
	}
}
