package templates

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
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

// imageLine is the line of a template that names its image.
var imageLine = regexp.MustCompile(`(?m)^image\s*=\s*"[^"\n]*"`)

// Render returns the template called name with its image replaced by image;
// an empty image keeps the template's own.
func Render(name, image string) ([]byte, error) {
	data, err := Get(name)
	if err != nil || image == "" {
		return data, err
	}
	loc := imageLine.FindIndex(data)
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
