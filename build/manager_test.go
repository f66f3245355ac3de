package build

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// layer makes a layer directory from a map of entries: a value "dir" is a
// directory, "->T" a symlink to T, "wh" a whiteout, "opaque" an opaque
// directory, "x:TEXT" an executable file, anything else a file.
func layer(t *testing.T, entries map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, what := range entries {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case what == "dir":
			err = os.MkdirAll(p, 0o755)
		case what == "opaque":
			if err = os.MkdirAll(p, 0o755); err == nil {
				err = unix.Setxattr(p, opaqueXattr, []byte("y"), 0)
			}
		case what == "wh":
			err = unix.Mknod(p, unix.S_IFCHR, 0)
		case len(what) > 2 && what[:2] == "->":
			err = os.Symlink(what[2:], p)
		case len(what) > 2 && what[:2] == "x:":
			err = os.WriteFile(p, []byte(what[2:]), 0o755)
		default:
			err = os.WriteFile(p, []byte(what), 0o644)
		}
		if err != nil {
			t.Fatalf("making %s: %v", name, err)
		}
	}
	return root
}

const debianRelease = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"

func TestDetectDebianThroughUsrMergeSymlinks(t *testing.T) {
	base := layer(t, map[string]string{
		"bin": "->usr/bin", "usr/bin/apt-get": "x:apt", "usr/bin/dpkg": "x:dpkg",
		"usr/lib/os-release": debianRelease, "etc/os-release": "->../usr/lib/os-release",
	})
	m, err := Detect("debian", []string{base})
	if err != nil || m.Name != "apt-get" {
		t.Fatalf("Detect = %v, %v; want apt-get", m, err)
	}
}

func TestDetectPrefersTheManagerOsReleaseNames(t *testing.T) {
	base := layer(t, map[string]string{
		"usr/bin/apt-get": "x:apt", "sbin/apk": "x:apk",
		"etc/os-release": "ID=alpine\n",
	})
	if m, err := Detect("img", []string{base}); err != nil || m.Name != "apk" {
		t.Fatalf("Detect = %v, %v; want apk", m, err)
	}
}

func TestDetectFollowsIDLikeAndRelativeLinks(t *testing.T) {
	base := layer(t, map[string]string{
		"usr/bin/dnf-3": "x:dnf", "usr/bin/dnf": "->dnf-3", "usr/bin/apt-get": "x:apt",
		"etc/os-release": "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n",
	})
	if m, err := Detect("img", []string{base}); err != nil || m.Name != "dnf" {
		t.Fatalf("Detect = %v, %v; want dnf", m, err)
	}
}

func TestDetectHonoursWhiteoutsAndOpaqueDirectories(t *testing.T) {
	bottom := layer(t, map[string]string{
		"usr/bin/apt-get": "x:apt", "usr/bin/yum": "x:yum", "etc/os-release": debianRelease,
	})
	// A whiteout of apt-get: the debian image without apt falls back to
	// the binaries present.
	hidesApt := layer(t, map[string]string{"usr/bin/apt-get": "wh"})
	if m, err := Detect("img", []string{bottom, hidesApt}); err != nil || m.Name != "yum" {
		t.Errorf("with apt-get whited out: Detect = %v, %v; want yum", m, err)
	}
	// An opaque /usr/bin with only zypper hides the lower binaries.
	opaque := layer(t, map[string]string{"usr/bin": "opaque", "usr/bin/zypper": "x:zypper"})
	if m, err := Detect("img", []string{bottom, opaque}); err != nil || m.Name != "zypper" {
		t.Errorf("with /usr/bin opaque: Detect = %v, %v; want zypper", m, err)
	}
	// A whited-out /usr hides everything under it.
	noUsr := layer(t, map[string]string{"usr": "wh"})
	var none *NoManagerError
	if m, err := Detect("img", []string{bottom, noUsr}); !errors.As(err, &none) {
		t.Errorf("with /usr whited out: Detect = %v, %v; want a NoManagerError", m, err)
	}
	// A file upper replaces a lower directory: nothing below it remains.
	fileUsr := layer(t, map[string]string{"usr": "not a directory"})
	if _, err := Detect("img", []string{bottom, fileUsr}); !errors.As(err, &none) {
		t.Errorf("with /usr a file: Detect = %v; want a NoManagerError", err)
	}
}

func TestDetectNeedsAnExecutable(t *testing.T) {
	base := layer(t, map[string]string{"usr/bin/apt-get": "not executable", "etc/os-release": debianRelease})
	var none *NoManagerError
	_, err := Detect("busybox", []string{base})
	if !errors.As(err, &none) || none.OS != "Debian GNU/Linux 12 (bookworm)" || none.Hint() == "" {
		t.Fatalf("Detect = %v; want a NoManagerError naming Debian", err)
	}
}

func TestDetectStopsAtSymlinkLoops(t *testing.T) {
	base := layer(t, map[string]string{"usr/bin/apt-get": "->apt-get", "bin": "->bin"})
	var none *NoManagerError
	if _, err := Detect("img", []string{base}); !errors.As(err, &none) {
		t.Fatalf("Detect = %v; want a NoManagerError", err)
	}
}

func TestManagerInstalled(t *testing.T) {
	for _, tc := range []struct {
		manager, before, after string
		declared               []string
		want                   map[string]string
	}{
		{
			// jq pulls in libjq1 and libonig5; libc6 is upgraded; make
			// was there already; an old package is only config-files.
			manager: "apt-get",
			before:  "installed\tlibc6\t2.36-9\ninstalled\tmake\t4.3-4.1\nconfig-files\told\t1.0\n",
			after: "installed\tlibc6\t2.36-9+deb12u4\ninstalled\tmake\t4.3-4.1\nconfig-files\told\t1.0\n" +
				"installed\tjq\t1.6-2.1\ninstalled\tlibjq1\t1.6-2.1\ninstalled\tlibonig5\t6.9.8-1\n",
			declared: []string{"jq", "make"},
			want:     map[string]string{"jq": "1.6-2.1", "libjq1": "1.6-2.1", "libonig5": "6.9.8-1", "libc6": "2.36-9+deb12u4", "make": "4.3-4.1"},
		},
		{
			manager:  "apk",
			before:   "musl-1.2.4-r2\nbusybox-1.36.1-r15\n",
			after:    "musl-1.2.4-r2\npy3-foo-bar-1.0-r0\nbusybox-1.36.1-r15\n",
			declared: []string{"py3-foo-bar"},
			want:     map[string]string{"py3-foo-bar": "1.0-r0"},
		},
		{
			manager:  "dnf",
			before:   "gpg-pubkey\tabc-1\nbash\t5.1-6\n",
			after:    "gpg-pubkey\tabc-1\ngpg-pubkey\tdef-2\nbash\t5.1-6\nmake\t4.3-11.el9\n",
			declared: []string{"make"},
			want:     map[string]string{"make": "4.3-11.el9"},
		},
		{
			manager:  "pacman",
			before:   "bash 5.2-1\n",
			after:    "bash 5.2-1\nmake 4.4.1-2\n",
			declared: []string{"make"},
			want:     map[string]string{"make": "4.4.1-2"},
		},
	} {
		got, err := ManagerByName(tc.manager).installed(tc.before, tc.after, tc.declared)
		if err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("%s: installed = %v, %v; want %v", tc.manager, got, err, tc.want)
		}
	}
	if _, err := ManagerByName("apt-get").installed("", "installed\thello\t2.10-3\n", []string{"hello", "gone"}); err == nil {
		t.Error("a declared package that is not installed was accepted")
	}
}

func TestAptMissingVersions(t *testing.T) {
	out := "Reading package lists...\nE: Version '2.10-1' for 'hello' was not found\nE: Version '1:1.0' for 'libfoo1' was not found\nE: Unable to locate package nothing\n"
	got := aptMissing(out)
	want := [][2]string{{"hello", "2.10-1"}, {"libfoo1", "1:1.0"}}
	if !slices.Equal(got, want) {
		t.Errorf("aptMissing = %v, want %v", got, want)
	}
}

func TestManagerPins(t *testing.T) {
	for name, want := range map[string]string{
		"apt-get": "hello=2.10-3", "apk": "hello=2.10-3", "dnf": "hello-2.10-3", "microdnf": "hello-2.10-3",
		"yum": "hello-2.10-3", "zypper": "hello=2.10-3", "pacman": "hello",
	} {
		if got := ManagerByName(name).arg("hello", "2.10-3"); got != want {
			t.Errorf("%s pins %q, want %q", name, got, want)
		}
	}
}
