package rootless

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLookupUser(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("passwd", "# users\nroot:x:0:0:root:/root:/bin/sh\npg:x:70:71:postgres:/var/lib/pg:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n")
	write("group", "root:x:0:\npg:x:71:\nssl:x:101:pg,other\nwheel:x:10:other\ndocker:x:999:pg\n")
	for _, c := range []struct {
		spec   string
		uid    uint32
		gid    uint32
		groups []uint32
		home   string
	}{
		{"pg", 70, 71, []uint32{101, 999}, "/var/lib/pg"},
		{"70", 70, 71, []uint32{101, 999}, "/var/lib/pg"},
		{"pg:ssl", 70, 101, []uint32{999}, "/var/lib/pg"},
		{"pg:5", 70, 5, []uint32{101, 999}, "/var/lib/pg"},
		{"1234", 1234, 1234, nil, ""},
		{"1234:7", 1234, 7, nil, ""},
		{"nobody", 65534, 65534, nil, "/nonexistent"},
	} {
		got, err := lookupUser(root, c.spec)
		if err != nil {
			t.Errorf("lookupUser(%q): %v", c.spec, err)
			continue
		}
		if got.uid != c.uid || got.gid != c.gid || !slices.Equal(got.groups, c.groups) || got.home != c.home {
			t.Errorf("lookupUser(%q) = %+v, want uid %d gid %d groups %v home %q", c.spec, *got, c.uid, c.gid, c.groups, c.home)
		}
	}
	for spec, want := range map[string]string{
		"ghost":     "no such user",
		"pg:nogrp":  "no such group",
		":5":        "want NAME, UID",
		"pg:":       "want NAME, UID",
		"ghost:ssl": "no such user",
	} {
		if _, err := lookupUser(root, spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("lookupUser(%q): error %v, want one saying %q", spec, err, want)
		}
	}
}
