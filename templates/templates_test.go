package templates

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	want := []string{"blank", "go", "java", "node", "python", "rust"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestGetUnknown(t *testing.T) {
	for _, name := range []string{"cobol", "", "../go", "go.toml"} {
		_, err := Get(name)
		var unknown *UnknownError
		if !errors.As(err, &unknown) || !strings.Contains(err.Error(), "blank, go, java") {
			t.Errorf("Get(%q) = %v, want an *UnknownError listing the templates", name, err)
		}
	}
}

func TestRender(t *testing.T) {
	for _, name := range Names() {
		orig, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(orig, []byte("\nimage = \"")) {
			t.Errorf("template %s has no image line", name)
		}
		same, err := Render(name, "")
		if err != nil || !bytes.Equal(same, orig) {
			t.Errorf("Render(%s, \"\") changed the template (err %v)", name, err)
		}
		got, err := Render(name, `odd"name\`)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(got, []byte(`image = "odd\"name\\"`+"\n")) {
			t.Errorf("Render(%s) did not quote the image:\n%s", name, got)
		}
		// Only the image line changed.
		a, b := strings.Split(string(orig), "\n"), strings.Split(string(got), "\n")
		if len(a) != len(b) {
			t.Fatalf("Render(%s) changed the number of lines", name)
		}
		changed := 0
		for i := range a {
			if a[i] != b[i] {
				changed++
			}
		}
		if changed != 1 {
			t.Errorf("Render(%s) changed %d lines, want 1", name, changed)
		}
	}
}

func TestSummary(t *testing.T) {
	got, err := Summary("go")
	if want := "a Go project; image golang:1.24-bookworm; roles build, test, server"; err != nil || got != want {
		t.Errorf("Summary(go) = %q, %v; want %q", got, err, want)
	}
	for _, name := range Names() {
		s, err := Summary(name)
		if err != nil || !strings.HasPrefix(s, "a ") || !strings.Contains(s, "; image ") || !strings.Contains(s, "; roles ") {
			t.Errorf("Summary(%s) = %q, %v: want what it is for, its image and its roles", name, s, err)
		}
	}
	if _, err := Summary("cobol"); err == nil {
		t.Error("Summary(cobol) did not fail")
	}
}
