package env

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestLoadUserConfig(t *testing.T) {
	dir := project(t, map[string]string{"config.toml": `
idmap = "full"

[registries."docker.io"]
mirrors = ["127.0.0.1:5000", "mirror.gcr.io"]   # tried in order

[registries."127.0.0.1:5000"]
insecure = true
`})
	u, err := LoadUserConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &UserConfig{
		IDMap: IDMapFull,
		Registries: map[string]Registry{
			"docker.io":      {Mirrors: []string{"127.0.0.1:5000", "mirror.gcr.io"}},
			"127.0.0.1:5000": {Insecure: true},
		},
	}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("got %+v, want %+v", u, want)
	}
}

func TestLoadUserConfigMissing(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{"", filepath.Join(dir, "nope", "config.toml")} {
		u, err := LoadUserConfig(path)
		if err != nil {
			t.Fatalf("LoadUserConfig(%q): %v", path, err)
		}
		if want := (&UserConfig{Registries: map[string]Registry{}, IDMap: IDMapSingle}); !reflect.DeepEqual(u, want) {
			t.Errorf("LoadUserConfig(%q) = %+v, want %+v", path, u, want)
		}
	}
}

func TestLoadUserConfigErrors(t *testing.T) {
	project(t, map[string]string{"config.toml": `idmap = "half"
colour = 1
[registries."docker.io"]
mirrors = ["https://mirror.example"]
insecure = "yes"
timeout = 5
[registries."bad host"]
[registries.quay]
mirrors = "a"
`})
	_, err := LoadUserConfig("config.toml")
	if err == nil {
		t.Fatal("LoadUserConfig accepted a bad file")
	}
	var got []string
	for _, p := range problems(t, err) {
		got = append(got, p.Error())
	}
	want := []string{
		`config.toml:1:1: idmap: "half" is not allowed; expected single, full`,
		`config.toml:2:1: colour: unknown key "colour"; allowed keys are registries, idmap`,
		`config.toml:4:1: registries."docker.io".mirrors: "https://mirror.example" is not a registry host: it has a URL scheme`,
		`config.toml:5:1: registries."docker.io".insecure: expected a boolean (true or false), found a string`,
		`config.toml:6:1: registries."docker.io".timeout: unknown key "timeout"; allowed keys are mirrors, insecure`,
		`config.toml:7:2: registries."bad host": "bad host" is not a registry host; expected HOST[:PORT]`,
		`config.toml:9:1: registries.quay.mirrors: expected an array of strings, found a string`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}
