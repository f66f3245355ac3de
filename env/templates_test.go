package env

import (
	"path/filepath"
	"testing"

	"github.com/nookenv/nook/templates"
)

// Every starter file nook init writes must load, validate and resolve.
func TestTemplatesLoad(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	names := templates.Names()
	if len(names) < 6 {
		t.Fatalf("templates: %v", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, err := templates.Get(name)
			if err != nil {
				t.Fatal(err)
			}
			dir := project(t, map[string]string{FileName: string(data)})
			c, err := Load(FileName)
			if err != nil {
				t.Fatalf("template %s does not load:\n%v", name, err)
			}
			e, err := Resolve(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Roles) == 0 {
				t.Errorf("template %s has no roles", name)
			}
			if e.ProjectDir != dir {
				t.Errorf("project dir %q, want %q", e.ProjectDir, dir)
			}

			// With another image, the file still loads and names that image.
			const image = "registry.example:5000/team/base:v1"
			rendered, err := templates.Render(name, image)
			if err != nil {
				t.Fatal(err)
			}
			other := project(t, map[string]string{FileName: string(rendered)})
			c, err = Load(filepath.Join(other, FileName))
			if err != nil {
				t.Fatalf("rendered template %s does not load:\n%v", name, err)
			}
			if c.Image != image {
				t.Errorf("rendered image %q, want %q", c.Image, image)
			}
		})
	}
}
