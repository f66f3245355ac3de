package layers

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testLock is a lock with every kind of entry, and keys that need quoting.
func testLock() *Lock {
	return &Lock{Version: lockVersionWithoutRoles, Platforms: map[string]*EnvLock{
		"linux/arm64": {Image: "debian:bookworm", Digest: "sha256:" + sha256Of([]byte("arm")).Hex, Manager: "apt-get",
			Packages: map[string]string{"libstdc++6": "12.2.0-14", "hello": "2.10-3"}},
		"linux/amd64": {Image: "debian:bookworm", Digest: "sha256:" + sha256Of([]byte("amd")).Hex, Manager: "apt-get",
			Declared: []string{"hello", "weird \"name\""},
			Packages: map[string]string{"zlib1g": "1:1.2.13.dfsg-1", "hello": "2.10-3", "weird \"name\"": "1\t2"}},
		"linux/riscv64": {Image: "debian:bookworm", Digest: "sha256:" + sha256Of([]byte("riscv")).Hex,
			Declared: []string{}, Packages: map[string]string{}},
	}}
}

func TestLockRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nook.lock")
	if err := testLock().Write(path); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadLock(path)
	if err != nil {
		t.Fatalf("ReadLock of what Write wrote: %v\n%s", err, first)
	}
	if !reflect.DeepEqual(got, testLock()) {
		t.Errorf("ReadLock = %+v, want %+v", got, testLock())
	}
	// Written again from what was read: byte-identical.
	if err := got.Write(path); err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) {
		t.Errorf("rewritten lock differs:\n%s\n---\n%s", first, second)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("Write left %d files beside the lock", len(entries)-1)
	}
}

func TestLockFormat(t *testing.T) {
	l := &Lock{Version: LockVersion, Platforms: map[string]*EnvLock{"linux/amd64": {
		Image: "docker.io/library/debian:bookworm", Digest: "sha256:" + sha256Of([]byte("m")).Hex, Manager: "apt-get",
		Declared: []string{"jq", "curl"},
		Packages: map[string]string{"jq": "1.6-2.1", "libjq1": "1.6-2.1", "libonig5": "6.9.8-1", "curl": "7.88.1-10+deb12u5"}}}}
	want := "# nook.lock — written by `nook build`; commit it. `nook build --update` rewrites it.\n" +
		"version = 2\n" +
		"\n" +
		"[platforms.\"linux/amd64\"]\n" +
		"image = \"docker.io/library/debian:bookworm\"\n" +
		"digest = \"" + l.Platforms["linux/amd64"].Digest + "\"\n" +
		"manager = \"apt-get\"\n" +
		"declared = [\"curl\", \"jq\"]\n" +
		"\n" +
		"[platforms.\"linux/amd64\".packages]\n" +
		"curl = \"7.88.1-10+deb12u5\"\n" +
		"jq = \"1.6-2.1\"\n" +
		"libjq1 = \"1.6-2.1\"\n" +
		"libonig5 = \"6.9.8-1\"\n"
	if got := string(l.Encode()); got != want {
		t.Errorf("Encode =\n%s\nwant\n%s", got, want)
	}
}

func TestLockWithRoles(t *testing.T) {
	// The project's environment and two roles' own: version 3, every
	// entry a table of its own, roles after the project's, by name.
	pg := &EnvLock{Image: "oci:images/pg", Digest: "sha256:" + sha256Of([]byte("pg")).Hex, Manager: "apt-get",
		Declared: []string{"postgresql"}, Packages: map[string]string{"postgresql": "15+248", "postgresql-15": "15.8-0+deb12u1"}}
	redis := &EnvLock{Image: "redis:7", Digest: "sha256:" + sha256Of([]byte("redis")).Hex, Packages: map[string]string{}}
	l, changed := testLock().With("db", "linux/amd64", pg)
	if !changed {
		t.Fatal("With a new role entry: not changed")
	}
	l, _ = l.With("cache", "linux/amd64", redis)
	if l.Entry("db", "linux/amd64") != pg || l.Entry("", "linux/arm64") == nil || l.Entry("web", "linux/amd64") != nil {
		t.Fatalf("entries after With: %+v", l)
	}
	if _, changed := l.With("db", "linux/amd64", &EnvLock{Image: pg.Image, Digest: pg.Digest, Manager: pg.Manager,
		Declared: pg.Declared, Packages: pg.Packages}); changed {
		t.Error("With an equal entry: changed")
	}
	text := string(l.Encode())
	want := "version = 3\n"
	if !strings.Contains(text, want) {
		t.Errorf("a lock with roles is not version 3:\n%s", text)
	}
	tail := "\n[roles.cache.platforms.\"linux/amd64\"]\nimage = \"redis:7\"\ndigest = \"" + redis.Digest + "\"\n" +
		"\n[roles.db.platforms.\"linux/amd64\"]\nimage = \"oci:images/pg\"\ndigest = \"" + pg.Digest + "\"\nmanager = \"apt-get\"\ndeclared = [\"postgresql\"]\n" +
		"\n[roles.db.platforms.\"linux/amd64\".packages]\npostgresql = \"15+248\"\npostgresql-15 = \"15.8-0+deb12u1\"\n"
	if !strings.HasSuffix(text, tail) {
		t.Errorf("roles' entries:\n%s\nwant them to end it as\n%s", text, tail)
	}
	path := filepath.Join(t.TempDir(), "nook.lock")
	if err := l.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLock(path)
	if err != nil {
		t.Fatalf("ReadLock of what Write wrote: %v\n%s", err, text)
	}
	if got.Version != 3 || !reflect.DeepEqual(got.Roles, l.Roles) || !reflect.DeepEqual(got.Platforms, l.Platforms) {
		t.Errorf("ReadLock = %+v, want %+v", got, l)
	}
	if again := string(got.Encode()); again != text {
		t.Errorf("rewritten lock differs:\n%s\n---\n%s", text, again)
	}

	// A role that lost its image loses its entry; without roles the lock
	// is version 2 again, as an older nook reads it.
	pruned, changed := got.WithoutRoles(func(r string) bool { return r == "db" })
	if !changed || pruned.Entry("cache", "linux/amd64") != nil || pruned.Entry("db", "linux/amd64") == nil || got.Entry("cache", "linux/amd64") == nil {
		t.Errorf("WithoutRoles(db only) = %+v (changed %v); the lock read: %+v", pruned.Roles, changed, got.Roles)
	}
	none, _ := pruned.With("db", "linux/amd64", nil)
	if len(none.Roles) != 0 || !strings.Contains(string(none.Encode()), "\nversion = 2\n") {
		t.Errorf("without role entries: roles %+v, encoded\n%s", none.Roles, none.Encode())
	}
}

func TestReadLockVersion1(t *testing.T) {
	// As nook wrote it before locks held what the packages pulled in.
	digest := "sha256:" + sha256Of([]byte("m")).Hex
	src := "# nook.lock — written by `nook build`; commit it. `nook build --update` rewrites it.\n" +
		"version = 1\n\n[platforms.\"linux/amd64\"]\nimage = \"debian:bookworm\"\ndigest = \"" + digest + "\"\nmanager = \"apt-get\"\n" +
		"\n[platforms.\"linux/amd64\".packages]\nhello = \"2.10-3\"\n"
	path := filepath.Join(t.TempDir(), "nook.lock")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := ReadLock(path)
	if err != nil {
		t.Fatal(err)
	}
	want := &EnvLock{Image: "debian:bookworm", Digest: digest, Manager: "apt-get", Packages: map[string]string{"hello": "2.10-3"}}
	if got := l.Platforms["linux/amd64"]; !got.Equal(want) || got.Complete() {
		t.Errorf("entry = %+v, want %+v, not complete: its packages are the declared ones alone", got, want)
	}
	if l.Version != 1 {
		t.Errorf("Version = %d, want 1", l.Version)
	}
}

func TestReadLockMissing(t *testing.T) {
	l, err := ReadLock(filepath.Join(t.TempDir(), "nook.lock"))
	if l != nil || err != nil {
		t.Errorf("ReadLock of a missing file = %v, %v; want nil, nil", l, err)
	}
}

func TestReadLockErrorsNameTheLine(t *testing.T) {
	digest := "sha256:" + sha256Of([]byte("m")).Hex
	cases := []struct {
		name, src string
		line      int
	}{
		{"syntax", "version = 1\n[platforms.\"linux/amd64\"]\nimage = debian\n", 3},
		{"unknown key", "version = 1\n\n[platforms.\"linux/amd64\"]\ndigest = \"" + digest + "\"\ncolour = \"red\"\n", 5},
		{"bad digest", "version = 1\n[platforms.\"linux/amd64\"]\ndigest = \"sha256:abc\"\n", 3},
		{"version type", "version = \"1\"\n", 1},
		{"future version", "# c\nversion = 4\n", 2},
		{"role not a table", "version = 3\nroles = { db = 1 }\n", 2},
		{"unknown role key", "version = 3\n[roles.db]\nimage = \"x\"\n", 3},
		{"role entry without digest", "version = 3\n[roles.db.platforms.\"linux/amd64\"]\nimage = \"x\"\n", 2},
		{"declared type", "version = 2\n[platforms.\"linux/amd64\"]\ndigest = \"" + digest + "\"\ndeclared = \"jq\"\n", 4},
		{"declared unpinned", "version = 2\n[platforms.\"linux/amd64\"]\ndigest = \"" + digest + "\"\ndeclared = [\"jq\"]\n", 4},
		{"no version", "[platforms.\"linux/amd64\"]\ndigest = \"" + digest + "\"\n", 1},
		{"package version type", "version = 1\n[platforms.\"linux/amd64\"]\ndigest = \"" + digest + "\"\n[platforms.\"linux/amd64\".packages]\nhello = 2\n", 5},
		{"no digest", "version = 1\n[platforms.\"linux/amd64\"]\nimage = \"x\"\n", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nook.lock")
			if err := os.WriteFile(path, []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadLock(path)
			var le *LockError
			if !errors.As(err, &le) {
				t.Fatalf("ReadLock = %v, want a *LockError", err)
			}
			if le.File != path || le.Line != c.line {
				t.Errorf("error at %s:%d, want %s:%d (%v)", le.File, le.Line, path, c.line, err)
			}
			if le.Hint() == "" {
				t.Error("no hint")
			}
		})
	}
}
