package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/internal/testpeer"
	"github.com/nookenv/nook/runstate"
)

// foreignFixture is where .ci/foreign-fixture, run as root, puts another
// user's files for safety_foreign_owner.txtar (see that script).
const foreignFixture = "/tmp/nook-ci-foreign"

// foreignFixtureReady reports whether the fixture is there: its forged
// record belongs to another user. Outside CI a missing fixture skips the
// script; in CI, which makes it, it is an error.
func foreignFixtureReady() (bool, error) {
	info, err := os.Lstat(filepath.Join(foreignFixture, "forged", "record"))
	if err == nil && int(info.Sys().(*syscall.Stat_t).Uid) != os.Getuid() {
		return true, nil
	}
	if os.Getenv("CI") != "" {
		return false, fmt.Errorf("the other-owner fixture %s is missing: .ci/run makes it (as root: .ci/foreign-fixture USER)", foreignFixture)
	}
	return false, nil
}

// The fixtures of the safety scripts (safety_*.txtar).
func init() {
	for n, f := range safetyCommands {
		scriptCommands[n] = f
	}
}

// foreignServers holds the server foreignserve started, by script.
var foreignServers sync.Map // *testscript.TestScript → *testpeer.Server

var safetyCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// projectid: set $ID to the project id of the nook.toml found from
	// the working directory, the name of its run-state directories.
	"projectid": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: projectid")
		}
		path, err := env.Find(ts.MkAbs("."))
		ts.Check(err)
		c, err := env.Load(path)
		ts.Check(err)
		e, err := env.Resolve(c)
		ts.Check(err)
		ts.Setenv("ID", e.ProjectID)
	},
	// foreignserve NETWORK PATH: serve a unix socket ("unix" or
	// "unixpacket") at PATH as another user (a subordinate uid of this
	// one: internal/testpeer) until the script ends.
	"foreignserve": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: foreignserve NETWORK PATH")
		}
		s, err := testpeer.Serve(ts.MkAbs(args[1]), args[0])
		ts.Check(err)
		foreignServers.Store(ts, s)
		ts.Defer(func() {
			s.Close()
			foreignServers.Delete(ts)
		})
	},
	// foreignnothing: the server of foreignserve had a connection, and the
	// client sent it nothing, not a byte nor a descriptor.
	"foreignnothing": func(ts *testscript.TestScript, neg bool, args []string) {
		s, _ := foreignServers.Load(ts)
		if neg || len(args) != 0 || s == nil {
			ts.Fatalf("usage: foreignnothing, after foreignserve")
		}
		bytes, fds, err := s.(*testpeer.Server).Next(10 * time.Second)
		ts.Check(err)
		if bytes != 0 || fds != 0 {
			ts.Fatalf("the other user's server got %d bytes and %d descriptors", bytes, fds)
		}
	},
	// forgedrole FILE: start a process of this user (sleep), set $VICTIM
	// to its pid, and write into FILE (an existing one is written through,
	// keeping its owner) a record that says a `nook run` of role web and
	// a `nook up` run as that process. The process ends with the script.
	"forgedrole": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: forgedrole FILE")
		}
		victim := exec.Command("sleep", "1000")
		ts.Check(victim.Start())
		ts.Defer(func() {
			victim.Process.Kill()
			victim.Wait()
		})
		owner, err := runstate.ProcessOwner(victim.Process.Pid)
		ts.Check(err)
		// A role's record and a supervisor's at once: both name an owner.
		record := map[string]any{"role": "web", "via": "run", "state": runstate.Running, "owner": owner,
			"project": "project", "roles": []string{"web"}, "started": time.Now()}
		data, err := json.Marshal(record)
		ts.Check(err)
		f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		ts.Check(err)
		_, err = f.Write(data)
		ts.Check(err)
		ts.Check(f.Close())
		ts.Setenv("VICTIM", strconv.Itoa(owner.Pid))
	},
	// alive PID: process PID runs (! alive: it does not).
	"alive": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: alive PID")
		}
		pid, err := strconv.Atoi(args[0])
		ts.Check(err)
		owner, err := runstate.ProcessOwner(pid)
		if (err == nil && owner.Alive()) == neg {
			ts.Fatalf("process %d: alive is %v", pid, !neg)
		}
	},
	// hardlink OLD NEW: make NEW a hard link to OLD.
	"hardlink": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: hardlink OLD NEW")
		}
		ts.Check(os.Link(ts.MkAbs(args[0]), ts.MkAbs(args[1])))
	},
	// mkfifo PATH: make a named pipe.
	"mkfifo": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: mkfifo PATH")
		}
		ts.Check(unix.Mkfifo(ts.MkAbs(args[0]), 0o600))
	},
	// hostiletoml FILE KIND: write a nook.toml naming the host image, then
	// what takes a TOML parser minutes or all memory: KIND tables (50,000
	// nested inline tables), arrays (20,000 nested arrays), keys (a key of
	// 100,000 dotted parts); or big (2 MiB of comment).
	"hostiletoml": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: hostiletoml FILE tables|arrays|keys|big")
		}
		var rest string
		switch args[1] {
		case "tables":
			rest = "a = " + strings.Repeat("{b = ", 50000) + "1" + strings.Repeat("}", 50000)
		case "arrays":
			rest = "a = " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
		case "keys":
			rest = strings.Repeat("a.", 100000) + "a = 1"
		case "big":
			rest = "#" + strings.Repeat("x", 2<<20)
		default:
			ts.Fatalf("hostiletoml: unknown kind %q", args[1])
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte("image = \"host\"\n"+rest+"\n"), 0o644))
	},
	// perm PATH MODE: PATH is a regular file (not a link) with permission
	// bits MODE, in octal.
	"perm": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: perm PATH MODE")
		}
		want, err := strconv.ParseUint(args[1], 8, 32)
		ts.Check(err)
		info, err := os.Lstat(ts.MkAbs(args[0]))
		ts.Check(err)
		if !info.Mode().IsRegular() || uint64(info.Mode().Perm()) != want {
			ts.Fatalf("%s is %v, want a regular file of mode %s", args[0], info.Mode(), args[1])
		}
	},
}
