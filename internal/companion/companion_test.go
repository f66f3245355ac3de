package companion

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestShapes checks that the build id's digest changes with the shape of
// a message: a field's name, type, tag, or a pointer made a value.
func TestShapes(t *testing.T) {
	shape := func(v any) string {
		var sb strings.Builder
		writeShape(&sb, reflect.TypeOf(v), map[reflect.Type]bool{})
		return sb.String()
	}
	type message struct {
		A []*struct{ B string }
	}
	base := shape(message{})
	if again := shape(message{}); again != base {
		t.Fatalf("the same type has two shapes: %q, %q", base, again)
	}
	for _, other := range []any{
		struct {
			A []*struct{ C string }
		}{},
		struct {
			A []*struct{ B int }
		}{},
		struct {
			A []*struct {
				B string `json:"b"`
			}
		}{},
		struct {
			A []struct{ B string }
		}{},
	} {
		if s := shape(other); s == base {
			t.Errorf("%T has the shape of message: %q", other, s)
		}
	}
	type a struct{ X int }
	type b struct{ X int }
	if Digest(a{}) == Digest(b{}) {
		t.Errorf("two messages of two types give one digest %s", Digest(a{}))
	}
	if id := BuildID(Digest(a{})); id != version()+"/"+Digest(a{}) {
		t.Errorf("build id %q is not the build's version %q and the digest", id, version())
	}
}

func TestCheck(t *testing.T) {
	id := BuildID(Digest(struct{ X int }{}))
	if err := Check([]string{"nook-init", id}, id); err != nil {
		t.Errorf("Check of the right id: %v", err)
	}
	err := Check([]string{"nook-init", "v0.1.0/go1.0/x"}, id)
	if err == nil || !strings.Contains(err.Error(), "is not from nook's build: it is "+id+", nook is v0.1.0/go1.0/x") {
		t.Errorf("Check of another build: %v", err)
	}
	if h, ok := err.(interface{ Hint() string }); !ok || !strings.Contains(h.Hint(), "go install github.com/nookenv/nook/cmd/...@VERSION") {
		t.Errorf("Check of another build gives no install hint: %v", err)
	}
	if err := Check([]string{"nook-init"}, id); err == nil || !strings.Contains(err.Error(), "it is not a command of its own") {
		t.Errorf("Check without an id (by hand): %v", err)
	}
}

func TestStartError(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nook-init")
	if err := StartError(missing, "nook needs it", os.ErrNotExist); err == nil || err.Error() != missing+" is missing: nook needs it, and looks for it beside its own executable" {
		t.Errorf("missing: %v", err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := StartError(plain, "nook needs it", os.ErrPermission); err == nil || !strings.Contains(err.Error(), plain+" is not an executable file") {
		t.Errorf("not executable: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := StartError(exe, "nook needs it", os.ErrPermission); err != nil {
		t.Errorf("an executable file is not the reason: %v", err)
	}
	if p, err := Path("nook-init"); err != nil || p != filepath.Join(filepath.Dir(exe), "nook-init") {
		t.Errorf(`Path("nook-init") = %q, %v; want beside %s`, p, err, exe)
	}
}
