package env

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := project(t, map[string]string{
		"p/nook.toml":             "image = \"busybox\"\n",
		"p/a/b/c/.keep":           "",
		"p/inner/nook.toml/.keep": "", // a directory named nook.toml is not a project file
	})
	want := filepath.Join(dir, "p", FileName)
	for _, from := range []string{
		filepath.Join(dir, "p"),
		filepath.Join(dir, "p", "a", "b", "c"),
		filepath.Join(dir, "p", "inner"),
		"p/a/b", // relative to the working directory
	} {
		got, err := Find(from)
		if err != nil || got != want {
			t.Errorf("Find(%q) = %q, %v; want %q", from, got, err, want)
		}
	}
	nested := project(t, map[string]string{"nook.toml": "", "sub/nook.toml": ""})
	if got, _ := Find(filepath.Join(nested, "sub")); got != filepath.Join(nested, "sub", FileName) {
		t.Errorf("Find found %q, not the nearest nook.toml", got)
	}
}

func TestFindNotFound(t *testing.T) {
	dir := t.TempDir()
	if _, err := os.Stat("/nook.toml"); err == nil {
		t.Skip("/nook.toml exists on this machine")
	}
	for d := filepath.Dir(dir); d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, FileName)); err == nil {
			t.Skipf("%s holds a nook.toml", d)
		}
	}
	_, err := Find(dir)
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("Find = %v, want a *NotFoundError", err)
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), FileName) {
		t.Errorf("error %q does not name %s and %s", err, dir, FileName)
	}
	if nf.Hint() != "run `nook init` to create one" {
		t.Errorf("hint = %q", nf.Hint())
	}
}

func TestPlaces(t *testing.T) {
	uid := os.Getuid()
	tests := []struct {
		name string
		env  map[string]string
		fn   func() string
		want string
	}{
		{"config from NOOK_CONFIG", map[string]string{"NOOK_CONFIG": "/etc/n.toml", "XDG_CONFIG_HOME": "/x"}, UserConfigPath, "/etc/n.toml"},
		{"config from XDG_CONFIG_HOME", map[string]string{"NOOK_CONFIG": "", "XDG_CONFIG_HOME": "/x"}, UserConfigPath, "/x/nook/config.toml"},
		{"config from HOME", map[string]string{"NOOK_CONFIG": "", "XDG_CONFIG_HOME": "", "HOME": "/h"}, UserConfigPath, "/h/.config/nook/config.toml"},
		{"relative XDG_CONFIG_HOME ignored", map[string]string{"NOOK_CONFIG": "", "XDG_CONFIG_HOME": "rel", "HOME": "/h"}, UserConfigPath, "/h/.config/nook/config.toml"},
		{"store from NOOK_HOME", map[string]string{"NOOK_HOME": "/n", "XDG_DATA_HOME": "/x"}, StoreDir, "/n"},
		{"store from XDG_DATA_HOME", map[string]string{"NOOK_HOME": "", "XDG_DATA_HOME": "/x"}, StoreDir, "/x/nook"},
		{"store from HOME", map[string]string{"NOOK_HOME": "", "XDG_DATA_HOME": "", "HOME": "/h"}, StoreDir, "/h/.local/share/nook"},
		{"run from XDG_RUNTIME_DIR", map[string]string{"XDG_RUNTIME_DIR": "/run/user/7"}, RunDir, "/run/user/7/nook"},
		{"run without XDG_RUNTIME_DIR", map[string]string{"XDG_RUNTIME_DIR": ""}, RunDir, fmt.Sprintf("/tmp/nook-%d", uid)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if got := tt.fn(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
