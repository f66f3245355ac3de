package env

import (
	"slices"
	"testing"
)

func TestProcessEnvOrderAndOverride(t *testing.T) {
	got := ProcessEnv(
		[]string{"PATH=/image/bin", "LANG=C.UTF-8", "HOSTNAME=image"},
		"proj",
		[]string{"TERM=xterm", "DEBIAN_FRONTEND=noninteractive"},
		[]string{"LANG=en_GB.UTF-8", "CGO_ENABLED=0", "HOME=/home/dev"},
	)
	want := []string{
		"PATH=/image/bin",  // the image's replaces the default, in the default's place
		"HOME=/home/dev",   // nook.toml's replaces the default
		"LANG=en_GB.UTF-8", // nook.toml's over the image's
		"HOSTNAME=proj",    // nook's over the image's
		"TERM=xterm",       // extra
		"DEBIAN_FRONTEND=noninteractive",
		"CGO_ENABLED=0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ProcessEnv =\n%q\nwant\n%q", got, want)
	}
}

func TestProcessEnvDefaults(t *testing.T) {
	got := ProcessEnv(nil, "h", nil, nil)
	want := []string{"PATH=" + DefaultPath, "HOME=/root", "HOSTNAME=h"}
	if !slices.Equal(got, want) {
		t.Errorf("ProcessEnv with nothing set = %q, want %q", got, want)
	}
}
