package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookenv/nook/export"
	"github.com/nookenv/nook/export/manifests"
	"github.com/nookenv/nook/export/workload"
	"github.com/nookenv/nook/internal/testimage"
	"github.com/nookenv/nook/rootless"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"nook":                 func() { os.Exit(Main()) },
		rootless.InitName:      rootless.Init,
		rootless.PodName:       rootless.PodMain,
		workload.ManifestsName: manifests.Main,
		rootless.RemoveName:    rootless.RemoveMain,
		rootless.TrialName:     rootless.TrialMain,
		export.LayerTarName:    export.LayerTarMain,
		"udpecho":              udpEchoMain,
	})
}

// TestScripts runs the end-to-end scripts in testdata/script as the user
// running the tests: every namespace in them is an unprivileged one when
// that user is not root, as in CI.
func TestScripts(t *testing.T) {
	requireImages(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			home := filepath.Join(e.WorkDir, "home")
			for _, d := range []string{home, filepath.Join(e.WorkDir, "run")} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					return err
				}
			}
			e.Setenv("HOME", home)
			e.Setenv("NOOK_HOME", filepath.Join(e.WorkDir, "store"))
			e.Setenv("NOOK_CONFIG", filepath.Join(e.WorkDir, "config.toml"))
			e.Setenv("XDG_RUNTIME_DIR", filepath.Join(e.WorkDir, "run"))
			e.Setenv("UID", fmt.Sprint(os.Getuid()))
			// A script that fails before its `nook stop` must not leave a
			// detached supervisor behind: its pod and roles end with it.
			store := filepath.Join(e.WorkDir, "store")
			e.Defer(func() { killDetached(store) })
			return nil
		},
		Cmds:      scriptCommands,
		Condition: scriptCondition,
	})
}

// requireImages skips when the test images cannot be built here; in CI,
// where every prerequisite is installed, it fails instead.
func requireImages(t *testing.T) {
	t.Helper()
	if why := testimage.Available(); why != "" {
		if os.Getenv("CI") != "" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
}

// killDetached kills this user's detached `nook up` supervisors started by
// one script, known by the NOOK_HOME in their environment.
func killDetached(store string) {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmdline, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "--detached-child") {
			continue
		}
		environ, err := os.ReadFile(filepath.Join(p, "environ"))
		if err != nil || !slices.Contains(strings.Split(string(environ), "\x00"), "NOOK_HOME="+store) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(p)); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
