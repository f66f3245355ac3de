package runstate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSelfIsAlive(t *testing.T) {
	me, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if me.Pid != os.Getpid() || me.Start == 0 {
		t.Fatalf("Self() = %+v", me)
	}
	if !me.Alive() {
		t.Fatal("the test process is not alive by its own record")
	}
}

func TestReusedPidIsNotAlive(t *testing.T) {
	me, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	// The same pid with another start time is another process.
	if (Owner{Pid: me.Pid, Start: me.Start + 1}).Alive() {
		t.Fatal("a pid with a different start time counts as alive")
	}
}

// endedProcess starts a process, records it and waits for it to end.
func endedProcess(t *testing.T) Owner {
	t.Helper()
	cmd := exec.Command("/bin/cat")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	o, err := ProcessOwner(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Alive() {
		t.Fatal("a running child is not alive")
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if o.Alive() {
		t.Fatal("a reaped child is still alive")
	}
	return o
}

func TestStaleRoleIsCleaned(t *testing.T) {
	p, err := Open(testRunDir(t), "abc123")
	if err != nil {
		t.Fatal(err)
	}
	me, _ := Self()
	gone := endedProcess(t)
	exit := 3
	records := []*Role{
		{Role: "server", Via: "up", Owner: me, State: Running, Started: time.Now()},
		{Role: "worker", Via: "up", Owner: gone, State: Running},
		{Role: "test", Via: "run", Owner: gone, State: Restarting},
		{Role: "build", Via: "up", Owner: gone, State: Exited, Exit: &exit},
	}
	for _, r := range records {
		if err := p.WriteRole(r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := p.Roles()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Role+":"+r.State)
	}
	if want := "build:exited server:running"; strings.Join(names, " ") != want {
		t.Fatalf("roles %q, want %q", strings.Join(names, " "), want)
	}
	// The stale records are gone from the disk too.
	entries, _ := os.ReadDir(p.RolesDir())
	if len(entries) != 2 {
		t.Fatalf("%d records left on disk, want 2", len(entries))
	}
}

func TestStaleSupervisorIsCleaned(t *testing.T) {
	p, err := Open(testRunDir(t), "abc123")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := p.Supervisor(); s != nil || err != nil {
		t.Fatalf("no record: Supervisor() = %v, %v", s, err)
	}
	me, _ := Self()
	if err := p.WriteSupervisor(&Supervisor{Owner: me, Project: "demo"}); err != nil {
		t.Fatal(err)
	}
	if s, err := p.Supervisor(); err != nil || s == nil || s.Project != "demo" {
		t.Fatalf("live record: Supervisor() = %+v, %v", s, err)
	}
	if err := p.WriteSupervisor(&Supervisor{Owner: endedProcess(t), Project: "demo", Control: p.ControlPath()}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p.ControlPath(), nil, 0o600)
	if s, err := p.Supervisor(); s != nil || err != nil {
		t.Fatalf("stale record: Supervisor() = %+v, %v", s, err)
	}
	if _, err := os.Stat(p.ControlPath()); !os.IsNotExist(err) {
		t.Fatalf("the stale control socket is still there: %v", err)
	}
}

func TestLockIsExclusive(t *testing.T) {
	dir := testRunDir(t)
	p, err := Open(dir, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := p.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Lock(); err == nil {
		t.Fatal("a second lock was granted")
	} else if _, ok := err.(*LockedError); !ok {
		t.Fatalf("second lock: %v, want a *LockedError", err)
	}
	unlock()
	again, err := p.Lock()
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again()
	projects, err := List(dir)
	if err != nil || len(projects) != 1 || projects[0].ID != "abc123" {
		t.Fatalf("List = %v, %v", projects, err)
	}
}

func TestLookupCreatesNothing(t *testing.T) {
	runDir := testRunDir(t)
	p := Lookup(runDir, "never-ran")
	roles, err := p.Roles()
	if err != nil || roles != nil {
		t.Fatalf("Roles of a project that never ran = %v, %v; want none", roles, err)
	}
	if _, err := os.Stat(p.Dir); !os.IsNotExist(err) {
		t.Errorf("Lookup made %s (stat: %v)", p.Dir, err)
	}
	// Lookup and Open name the same place.
	opened, err := Open(runDir, "never-ran")
	if err != nil {
		t.Fatal(err)
	}
	if opened.Dir != p.Dir {
		t.Errorf("Open's directory %s, Lookup's %s", opened.Dir, p.Dir)
	}
	me, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if err := opened.WriteRole(&Role{Role: "server", Via: "up", Owner: me, State: Running}); err != nil {
		t.Fatal(err)
	}
	if roles, err := p.Roles(); err != nil || len(roles) != 1 || roles[0].Role != "server" {
		t.Errorf("Roles through Lookup after a write through Open = %v, %v; want server", roles, err)
	}
}

// testRunDir is a run-state directory for a test, not yet made: Open makes
// it, private, as nook makes its own.
func testRunDir(t *testing.T) string {
	return filepath.Join(t.TempDir(), "nook")
}
