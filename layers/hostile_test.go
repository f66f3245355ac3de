//go:build linux

package layers

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// hostileHost is the world around a layer directory: base holds a sentinel
// file, a sibling "host" directory with a secret file, and the directory
// where layers are unpacked. A layer must never change anything in it but
// its own directory.
type hostileHost struct {
	base     string // the parent temporary directory
	host     string // base/host, a directory a layer might aim at
	secret   string // base/host/secret
	sentinel string // base/sentinel
	layers   string // base/layers, where layer directories are made
}

func newHostileHost(t testing.TB, base string) *hostileHost {
	t.Helper()
	h := &hostileHost{
		base:     base,
		host:     filepath.Join(base, "host"),
		secret:   filepath.Join(base, "host", "secret"),
		sentinel: filepath.Join(base, "sentinel"),
		layers:   filepath.Join(base, "layers"),
	}
	for _, d := range []string{h.host, h.layers} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{h.secret, h.sentinel} {
		if err := os.WriteFile(f, []byte("untouched "+filepath.Base(f)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// fileState is what a snapshot records of one path: everything a write,
// chmod, link, xattr or utimes through a hostile layer would change (ctime
// moves with any of them).
type fileState struct {
	mode, nlink  uint32
	ino, size    uint64
	mtime, ctime unix.Timespec
	target       string // of a symbolic link
	sum          [32]byte
	xattrs       string
}

// snapshot records every path under h.base except what is inside h.layers
// and the times of h.layers itself, which unpacking changes.
func (h *hostileHost) snapshot(t testing.TB) map[string]fileState {
	t.Helper()
	state := map[string]fileState{}
	err := filepath.WalkDir(h.base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		s := fileState{mode: st.Mode, nlink: uint32(st.Nlink), ino: st.Ino, size: uint64(st.Size), mtime: st.Mtim, ctime: st.Ctim}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			s.target, _ = os.Readlink(path)
		case unix.S_IFREG:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			s.sum = sha256.Sum256(data)
		}
		buf := make([]byte, 4096)
		if n, err := unix.Llistxattr(path, buf); err == nil {
			s.xattrs = string(buf[:n])
		}
		if path == h.layers {
			s.mtime, s.ctime, s.nlink = unix.Timespec{}, unix.Timespec{}, 0
			state[path] = s
			return filepath.SkipDir
		}
		state[path] = s
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot of %s: %v", h.base, err)
	}
	return state
}

// diff describes how after differs from before.
func diffSnapshots(before, after map[string]fileState) string {
	var out []string
	for _, path := range slices.Sorted(maps.Keys(after)) {
		if b, ok := before[path]; !ok {
			out = append(out, "appeared: "+path)
		} else if b != after[path] {
			out = append(out, fmt.Sprintf("changed: %s: %+v -> %+v", path, b, after[path]))
		}
	}
	for _, path := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[path]; !ok {
			out = append(out, "vanished: "+path)
		}
	}
	return strings.Join(out, "\n")
}

// hostileCase is a layer built to escape its directory.
type hostileCase struct {
	name    string
	entries []tarEntry
	// refused: Unpack must fail with ErrUnsafeEntry and name this entry.
	// Empty: the layer may unpack, contained (check says how).
	refused string
	// devices: Unpack must succeed, skipping that many device nodes and
	// creating nothing in their place.
	devices int
	check   func(t *testing.T, dir string)
}

// hostileCases returns layers that try to reach h's host directory, the
// system or devices.
func hostileCases(h *hostileHost) []hostileCase {
	return []hostileCase{
		{name: "dotdot", entries: []tarEntry{regEntry("../x", "pwned", 0o644)}, refused: "../x"},
		{name: "dotdot-to-host", entries: []tarEntry{regEntry("../../host/secret", "pwned", 0o644)}, refused: "../../host/secret"},
		{name: "inner-dotdot", entries: []tarEntry{dirEntry("a/", 0o755), regEntry("a/../../x", "pwned", 0o644)}, refused: "a/../../x"},
		{name: "dotdot-dir", entries: []tarEntry{dirEntry("../", 0o777)}, refused: "../"},
		{name: "absolute", entries: []tarEntry{regEntry("/etc/x", "pwned", 0o644)}, refused: "/etc/x"},
		{name: "absolute-host", entries: []tarEntry{regEntry(h.secret, "pwned", 0o644)}, refused: h.secret},
		{
			name:    "symlink-root-then-file",
			entries: []tarEntry{symlinkEntry("root", "/"), regEntry("root/x", "in layer", 0o644)},
			check: func(t *testing.T, dir string) {
				wantContent(t, filepath.Join(dir, "x"), "in layer")
			},
		},
		{
			name:    "symlink-up-then-file",
			entries: []tarEntry{symlinkEntry("up", "../../.."), regEntry("up/y", "in layer", 0o644), regEntry("up/up/z", "in layer", 0o644)},
			check: func(t *testing.T, dir string) {
				wantContent(t, filepath.Join(dir, "y"), "in layer")
				wantContent(t, filepath.Join(dir, "z"), "in layer")
			},
		},
		{
			name: "symlink-chain-up-then-dir",
			entries: []tarEntry{
				dirEntry("a/", 0o755), symlinkEntry("a/b", "../.."), symlinkEntry("c", "a/b/a/b/.."),
				dirEntry("c/host/", 0o777), regEntry("c/host/secret", "in layer", 0o644),
			},
			check: func(t *testing.T, dir string) {
				wantContent(t, filepath.Join(dir, "host/secret"), "in layer")
			},
		},
		{name: "symlink-host-abs-then-file", entries: []tarEntry{symlinkEntry("l", h.host), regEntry("l/pwned", "x", 0o644)}},
		{name: "symlink-host-abs-then-dir", entries: []tarEntry{symlinkEntry("l", h.host), dirEntry("l/pwned/", 0o755)}},
		// "../host" resolves to the layer's own /host, which is absent.
		{name: "symlink-host-rel-then-file", entries: []tarEntry{symlinkEntry("l", "../host"), regEntry("l/secret", "pwned", 0o644)}},
		{name: "symlink-host-then-whiteout", entries: []tarEntry{symlinkEntry("l", h.host), regEntry("l/.wh.secret", "", 0o644)}},
		{name: "symlink-host-then-opaque", entries: []tarEntry{symlinkEntry("l", h.host), regEntry("l/.wh..wh..opq", "", 0o644)}},
		{name: "symlink-host-then-fifo", entries: []tarEntry{symlinkEntry("l", h.host), nodeEntry("l/fifo", tar.TypeFifo, 0, 0)}},
		{name: "symlink-host-then-symlink", entries: []tarEntry{symlinkEntry("l", h.host), symlinkEntry("l/evil", "/")}},
		{
			name:    "symlink-host-file-then-overwrite",
			entries: []tarEntry{symlinkEntry("s", h.secret), regEntry("s", "replaced the link", 0o600)},
			check: func(t *testing.T, dir string) {
				wantContent(t, filepath.Join(dir, "s"), "replaced the link")
			},
		},
		{
			name:    "symlink-host-dir-then-replace-dir",
			entries: []tarEntry{symlinkEntry("d", h.host), dirEntry("d/", 0o555)},
			check: func(t *testing.T, dir string) {
				wantMode(t, filepath.Join(dir, "d"), unix.S_IFDIR, 0o555)
			},
		},
		{
			name: "symlink-host-file-then-hardlink-it",
			// Links the symbolic link itself, which stays inside the layer.
			entries: []tarEntry{symlinkEntry("s", h.secret), linkEntry("h", "s")},
			check: func(t *testing.T, dir string) {
				if st := lstat(t, filepath.Join(dir, "h")); st.Mode&unix.S_IFMT != unix.S_IFLNK {
					t.Errorf("h: mode %o, want the symbolic link", st.Mode)
				}
			},
		},
		{name: "symlink-proc-magic", entries: []tarEntry{symlinkEntry("p", "/proc/self/root"), regEntry("p/x", "pwned", 0o644)}},
		{name: "symlink-loop", entries: []tarEntry{symlinkEntry("a", "b"), symlinkEntry("b", "a"), regEntry("a/x", "x", 0o644)}},
		{name: "hardlink-etc-passwd", entries: []tarEntry{linkEntry("pw", "/etc/passwd")}, refused: "pw"},
		{name: "hardlink-host-dotdot", entries: []tarEntry{linkEntry("s", "../../host/secret")}, refused: "s"},
		{name: "hardlink-host-abs", entries: []tarEntry{linkEntry("s", h.secret)}, refused: "s"},
		{name: "hardlink-through-symlink", entries: []tarEntry{symlinkEntry("l", h.host), linkEntry("s", "l/secret")}, refused: "s"},
		{name: "hardlink-through-root-symlink", entries: []tarEntry{symlinkEntry("l", "/"), linkEntry("pw", "l/etc/passwd")}, refused: "pw"},
		{name: "hardlink-dir", entries: []tarEntry{dirEntry("d/", 0o755), linkEntry("h", "d")}, refused: "h"},
		{name: "hardlink-dir-through-symlink", entries: []tarEntry{symlinkEntry("l", "/"), linkEntry("h", "l/")}, refused: "h"},
		{
			name:    "hardlink-root-symlink",
			entries: []tarEntry{symlinkEntry("l", "/"), linkEntry("h", "l")},
			check: func(t *testing.T, dir string) {
				if st := lstat(t, filepath.Join(dir, "h")); st.Mode&unix.S_IFMT != unix.S_IFLNK {
					t.Errorf("h: mode %o, want the symbolic link l itself", st.Mode)
				}
			},
		},
		{name: "char-device-null", entries: []tarEntry{nodeEntry("dev/null", tar.TypeChar, 1, 3)}, devices: 1},
		{name: "char-device-major-only", entries: []tarEntry{nodeEntry("dev/mem", tar.TypeChar, 1, 0)}, devices: 1},
		{name: "block-device", entries: []tarEntry{nodeEntry("dev/sda", tar.TypeBlock, 8, 0)}, devices: 1},
		{name: "block-device-zero", entries: []tarEntry{nodeEntry("dev/zero-block", tar.TypeBlock, 0, 0)}, devices: 1},
		{name: "hardlink-to-device", entries: []tarEntry{nodeEntry("dev/kmem", tar.TypeChar, 1, 2), linkEntry("mem", "dev/kmem")}, devices: 2},
		{name: "device-outside", entries: []tarEntry{nodeEntry("../sda", tar.TypeBlock, 8, 0)}, refused: "../sda"},
		{
			name: "privileged-xattrs",
			entries: []tarEntry{withXattrs(regEntry("bin/ping", "x", 0o755),
				"security.capability", "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
				"security.selinux", "system_u:object_r:bin_t:s0",
				"trusted.overlay.opaque", "y",
				"trusted.overlay.redirect", "/etc",
				"user.overlay.opaque", "y",
				"user.overlay.redirect", "/etc",
				"user.overlay.metacopy", "",
				"user.ok", "kept",
			), withXattrs(dirEntry("d/", 0o755), "user.overlay.opaque", "y", "trusted.overlay.opaque", "y")},
			check: func(t *testing.T, dir string) {
				if got := xattrNames(t, filepath.Join(dir, "bin/ping")); !slices.Equal(got, []string{"user.ok"}) {
					t.Errorf("bin/ping xattrs %q, want only user.ok", got)
				}
				if got := xattrNames(t, filepath.Join(dir, "d")); len(got) != 0 {
					t.Errorf("d xattrs %q, want none", got)
				}
			},
		},
	}
}

func TestUnpackHostile(t *testing.T) {
	h := newHostileHost(t, t.TempDir())
	for _, tc := range hostileCases(h) {
		t.Run(tc.name, func(t *testing.T) {
			before := h.snapshot(t)
			dir, err := os.MkdirTemp(h.layers, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			defer h.wantUntouched(t, before, dir)
			got, err := Unpack(bytes.NewReader(writeLayerTar(t, tc.entries...)), dir)
			switch {
			case tc.devices > 0:
				if err != nil || got.Devices != tc.devices {
					t.Errorf("Unpack: %d devices skipped, %v; want %d skipped and no error", got.Devices, err, tc.devices)
				}
				if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 0 {
					t.Errorf("made %v, want nothing in place of devices", names)
				}
			case tc.refused != "":
				if !errors.Is(err, ErrUnsafeEntry) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.refused)) {
					t.Errorf("Unpack: %v; want a refusal naming %q", err, tc.refused)
				}
			case tc.check != nil:
				if err != nil {
					t.Fatalf("Unpack: %v; want the layer unpacked, contained", err)
				}
				tc.check(t, dir)
			default:
				t.Logf("Unpack: %v", err) // failing or succeeding, it must stay inside
			}
			wantNoDevices(t, dir)
		})
	}
}

// wantUntouched removes the layer directory dir and checks that the rest of
// the host is as before: nothing changed, nothing appeared (in the layers
// directory either, where a "../x" entry would land).
func (h *hostileHost) wantUntouched(t testing.TB, before map[string]fileState, dir string) {
	t.Helper()
	if err := removeTree(dir); err != nil {
		t.Errorf("removeTree: %v", err)
	}
	if names, err := os.ReadDir(h.layers); err != nil || len(names) != 0 {
		t.Errorf("%s holds %v (%v) once the layer is removed, want nothing", h.layers, names, err)
	}
	if diff := diffSnapshots(before, h.snapshot(t)); diff != "" {
		t.Errorf("outside the layer directory:\n%s", diff)
	}
}

// wantNoDevices fails the test if dir holds a device node other than a 0/0
// whiteout. It opens every directory to the owner first (a layer may close
// them), so nothing escapes the look.
func wantNoDevices(t testing.TB, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			// WalkDir reads a directory after this call. d is no link:
			// WalkDir does not follow them.
			return os.Chmod(path, 0o700)
		case d.Type()&(fs.ModeDevice|fs.ModeCharDevice) == 0:
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFBLK || st.Rdev != 0 {
			t.Errorf("%s is a device node (mode %o, rdev %d)", path, st.Mode, st.Rdev)
		}
		return nil
	})
	if err != nil {
		t.Errorf("looking for device nodes in %s: %v", dir, err)
	}
}
