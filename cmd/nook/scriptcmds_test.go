package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookenv/nook/internal/testimage"
)

var bracedVar = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)

// scriptCommands are the fixtures the scripts use besides nook itself.
var scriptCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// registry: serve the test images from an in-process registry on
	// loopback and set $REGISTRY to its host:port. Images: test/busybox
	// (two layers: whiteouts, an opaque dir), test/busybox-zstd, and
	// hostile/NAME for each hostile image, aimed at $WORK/outside.
	"registry": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: registry")
		}
		reg := testimage.NewRegistry()
		ts.Defer(reg.Close)
		scriptRegistries.Store(ts, reg)
		ts.Defer(func() { scriptRegistries.Delete(ts) })
		img, err := testimage.Busybox()
		ts.Check(err)
		_, err = reg.Push("test/busybox:latest", img)
		ts.Check(err)
		hostile, err := testimage.Hostile(ts.MkAbs("outside"))
		ts.Check(err)
		for name, img := range hostile {
			_, err := reg.Push("hostile/"+name+":latest", img)
			ts.Check(err)
		}
		ts.Setenv("REGISTRY", reg.Host)
	},
	// ocilayout DIR TAG: write the test busybox image into an OCI layout.
	"ocilayout": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: ocilayout DIR TAG")
		}
		img, err := testimage.Busybox()
		ts.Check(err)
		ts.Check(testimage.WriteLayout(ts.MkAbs(args[0]), args[1], img))
	},
	// dockerarchive FILE REF: write the test busybox image as a docker save tarball.
	"dockerarchive": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: dockerarchive FILE REF")
		}
		img, err := testimage.Busybox()
		ts.Check(err)
		ts.Check(testimage.WriteArchive(ts.MkAbs(args[0]), args[1], img))
	},
	// owner FILE UID: FILE's owner on the host is UID.
	"owner": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: owner FILE UID")
		}
		info, err := os.Lstat(ts.MkAbs(args[0]))
		ts.Check(err)
		uid := info.Sys().(*syscall.Stat_t).Uid
		if (strconv.Itoa(int(uid)) == args[1]) == neg {
			ts.Fatalf("%s is owned by uid %d", args[0], uid)
		}
	},
	// expand FILE...: replace each ${NAME} in the files with $NAME's value
	// (only the braced form, so a role's "$$" stays as it is).
	"expand": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) == 0 {
			ts.Fatalf("usage: expand FILE...")
		}
		for _, f := range args {
			data, err := os.ReadFile(ts.MkAbs(f))
			ts.Check(err)
			data = bracedVar.ReplaceAllFunc(data, func(m []byte) []byte {
				return []byte(ts.Getenv(string(m[2 : len(m)-1])))
			})
			ts.Check(os.WriteFile(ts.MkAbs(f), data, 0o644))
		}
	},
	// status N CMD [ARGS...]: run CMD like exec and require exit status N;
	// its stdout and stderr are kept for stdout/stderr checks.
	"status": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: status N CMD [ARGS...]")
		}
		want, err := strconv.Atoi(args[0])
		ts.Check(err)
		got := 0
		if err := ts.Exec(args[1], args[2:]...); err != nil {
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				ts.Fatalf("running %s: %v", args[1], err)
			}
			got = exit.ExitCode()
		}
		if got != want {
			ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
		}
	},
	// within DURATION CMD [ARGS...]: run CMD like exec (it must succeed)
	// and fail if it took longer than DURATION.
	"within": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: within DURATION CMD [ARGS...]")
		}
		limit, err := time.ParseDuration(args[0])
		ts.Check(err)
		began := time.Now()
		ts.Check(ts.Exec(args[1], args[2:]...))
		if took := time.Since(began); took > limit {
			ts.Fatalf("%s took %v, more than %v", args[1], took.Round(time.Millisecond), limit)
		}
	},
	// waitlines FILE N: wait until FILE has at least N lines, woken by
	// inotify on its directory (no polling); fails after a minute.
	"waitlines": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: waitlines FILE N")
		}
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		path := ts.MkAbs(args[0])
		w, err := fsnotify.NewWatcher()
		ts.Check(err)
		defer w.Close()
		ts.Check(w.Add(filepath.Dir(path)))
		deadline := time.After(time.Minute)
		for {
			data, _ := os.ReadFile(path)
			if bytes.Count(data, []byte("\n")) >= n {
				return
			}
			select {
			case <-w.Events:
			case err := <-w.Errors:
				ts.Fatalf("watching %s: %v", args[0], err)
			case <-deadline:
				ts.Fatalf("%s has %d lines after a minute, want %d:\n%s", args[0], bytes.Count(data, []byte("\n")), n, data)
			}
		}
	},
	// lonenook DIR: put nook in DIR alone, without the nook-init that
	// testscript puts beside it on $PATH.
	"lonenook": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: lonenook DIR")
		}
		exe, err := os.Executable()
		ts.Check(err)
		dir := ts.MkAbs(args[0])
		ts.Check(os.MkdirAll(dir, 0o755))
		if err := os.Link(exe, filepath.Join(dir, "nook")); err != nil {
			b, err := os.ReadFile(exe)
			ts.Check(err)
			ts.Check(os.WriteFile(filepath.Join(dir, "nook"), b, 0o755))
		}
	},
	// emptydir DIR: DIR exists and holds nothing.
	"emptydir": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: emptydir DIR")
		}
		entries, err := os.ReadDir(ts.MkAbs(args[0]))
		ts.Check(err)
		if (len(entries) == 0) == neg {
			names := []string{}
			for _, e := range entries {
				names = append(names, filepath.Join(args[0], e.Name()))
			}
			ts.Fatalf("%s holds %v", args[0], names)
		}
	},
}
