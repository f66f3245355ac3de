package runstate

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nookenv/nook/internal/safefile"
)

func TestOpenRefusesAnUnsafeRunDir(t *testing.T) {
	runDir := testRunDir(t)
	if err := os.Mkdir(runDir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(runDir, 0o777); err != nil {
		t.Fatal(err)
	}
	var unsafe *safefile.UnsafeError
	if _, err := Open(runDir, "abc123"); !errors.As(err, &unsafe) {
		t.Errorf("Open = %v, want an *safefile.UnsafeError", err)
	}
	if _, err := Find(runDir, "abc123"); !errors.As(err, &unsafe) {
		t.Errorf("Find = %v, want an *safefile.UnsafeError", err)
	}
	if _, err := List(runDir); !errors.As(err, &unsafe) {
		t.Errorf("List = %v, want an *safefile.UnsafeError", err)
	}
	if _, err := MakePodDir(runDir, "abc123"); !errors.As(err, &unsafe) {
		t.Errorf("MakePodDir = %v, want an *safefile.UnsafeError", err)
	}
	if entries, _ := os.ReadDir(runDir); len(entries) != 0 {
		t.Errorf("made %v in it", entries)
	}
}

func TestRecordsAreTrustedOnlyAsFilesOfTheUser(t *testing.T) {
	p, err := Open(testRunDir(t), "abc123")
	if err != nil {
		t.Fatal(err)
	}
	me, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	// A record, and a supervisor record, of a live process, written
	// elsewhere and linked in.
	elsewhere := t.TempDir()
	rec := &Role{Role: "web", Via: "run", Owner: me, State: Running}
	if err := writeJSON(filepath.Join(elsewhere, "web.json"), rec); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(elsewhere, "supervisor.json"), &Supervisor{Owner: me}); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "web.json"), filepath.Join(p.RolesDir(), rec.file())); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "supervisor.json"), filepath.Join(p.Dir, "supervisor.json")); err != nil {
		t.Fatal(err)
	}
	if roles, err := p.Roles(); err != nil || len(roles) != 0 {
		t.Errorf("Roles = %v, %v; want none", roles, err)
	}
	if s, err := p.Supervisor(); err != nil || s != nil {
		t.Errorf("Supervisor = %v, %v; want none", s, err)
	}
	// Written by nook, the same record is trusted.
	if err := p.WriteRole(rec); err != nil {
		t.Fatal(err)
	}
	if roles, err := p.Roles(); err != nil || len(roles) != 1 {
		t.Errorf("Roles = %v, %v; want web", roles, err)
	}
}
