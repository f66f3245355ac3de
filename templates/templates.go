package templates

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"sync"
)

//go:embed *.toml
var files embed.FS

// Names returns the template names, sorted: blank, go, java, node, python, rust.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".toml"))
	}
	slices.Sort(names)
	return names
}

// Get returns the starter nook.toml called name.
func Get(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/.\\") {
		return nil, &UnknownError{Name: name}
	}
	data, err := files.ReadFile(name + ".toml")
	if err != nil {
		return nil, &UnknownError{Name: name}
	}
	return data, nil
}

// The expressions that read templates are compiled when first used (nook
// init, completion), not at every start of nook.
var (
	// imageLine is the line of a template that names its image, the
	// image its submatch.
	imageLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^image\s*=\s*"([^"\n]*)"`) })
	// purposeLine is a template's first line: "# nook.toml: a Go project's
	// development environment."
	purposeLine = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^# nook\.toml: (.+?)(?:'s development environment)?\.\n`)
	})
	roleHeader = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\[roles\.([a-z0-9_-]+)\]`) })
)

// Summary says in one line what the template called name is for, which
// image it starts from and which roles it has: "a Go project; image
// golang:1.24-bookworm; roles build, test, server".
func Summary(name string) (string, error) {
	data, err := Get(name)
	if err != nil {
		return "", err
	}
	parts := []string{name}
	if m := purposeLine().FindSubmatch(data); m != nil {
		parts[0] = string(m[1])
	}
	if m := imageLine().FindSubmatch(data); m != nil {
		parts = append(parts, "image "+string(m[1]))
	}
	var roles []string
	for _, m := range roleHeader().FindAllSubmatch(data, -1) {
		roles = append(roles, string(m[1]))
	}
	if len(roles) > 0 {
		parts = append(parts, "roles "+strings.Join(roles, ", "))
	}
	return strings.Join(parts, "; "), nil
}

// Render returns the template called name with its image replaced by image;
// an empty image keeps the template's own.
func Render(name, image string) ([]byte, error) {
	data, err := Get(name)
	if err != nil || image == "" {
		return data, err
	}
	loc := imageLine().FindIndex(data)
	if loc == nil {
		return nil, fmt.Errorf("template %s has no image line", name)
	}
	return slices.Concat(data[:loc[0]], []byte("image = "+Quote(image)), data[loc[1]:]), nil
}

// Quote writes s as a TOML basic string (Render uses it for the image;
// env for keys in messages).
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// UnknownError is returned for a template name that does not exist.
type UnknownError struct {
	Name string
}

// Error names the template and the ones there are.
func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown template %q; the templates are %s", e.Name, strings.Join(Names(), ", "))
}
