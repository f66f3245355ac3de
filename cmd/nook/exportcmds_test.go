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

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookenv/nook/internal/testimage"
)

// The fixtures of the export scripts (export_*.txtar).
func init() {
	for n, f := range exportCommands {
		scriptCommands[n] = f
	}
}

// podmanConf is the containers.conf the scripts' podman runs with: rootless
// podman's default runtime, crun, fails on this project's machines (hybrid
// cgroups v1), runc works, with cgroupfs (no systemd user session) and
// events in a file.
const podmanConf = `[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`

// podmanAvailable says why podman cannot check exports here, or "".
func podmanAvailable() string {
	for _, p := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(p); err != nil {
			return p + " is not installed (apt-get install podman runc)"
		}
	}
	return ""
}

// scriptRegistries holds each script's registry (see "registry"), by
// script.
var scriptRegistries sync.Map

// uploadsSeen is the registry's upload count at each script's last
// blobuploads.
var uploadsSeen sync.Map

var exportCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// podman ARGS...: run podman with a storage, configuration and run
	// directory of the script's own (under $WORK/podman), reset and its
	// pause process ended when the script ends. Guard it with [podman].
	"podman": func(ts *testscript.TestScript, neg bool, args []string) {
		base := filepath.Join(ts.Getenv("WORK"), "podman")
		if _, err := os.Stat(base); err != nil {
			for _, d := range []string{"run", "data", "config/containers"} {
				ts.Check(os.MkdirAll(filepath.Join(base, d), 0o700))
			}
			ts.Check(os.WriteFile(filepath.Join(base, "config/containers/containers.conf"), []byte(podmanConf), 0o644))
			ts.Defer(func() { resetPodman(ts, base) })
		}
		// Files, not pipes: podman leaves processes behind (conmon, the
		// rootless network) that would hold a pipe open.
		stdout, err := os.CreateTemp("", "podman-stdout-")
		ts.Check(err)
		defer os.Remove(stdout.Name())
		stderr, err := os.CreateTemp("", "podman-stderr-")
		ts.Check(err)
		defer os.Remove(stderr.Name())
		cmd := exec.Command("podman", args...)
		cmd.Env = podmanEnv(ts, base)
		cmd.Dir = ts.Getenv("PWD")
		cmd.Stdout, cmd.Stderr = stdout, stderr
		err = cmd.Run()
		stdout.Close()
		stderr.Close()
		out, _ := os.ReadFile(stdout.Name())
		errOut, _ := os.ReadFile(stderr.Name())
		ts.Stdout().Write(out)
		ts.Stderr().Write(errOut)
		if (err != nil) != neg {
			ts.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, errOut)
		}
	},
	// blobuploads: print how many blobs were uploaded to the script's
	// registry since the last blobuploads (or its start).
	"blobuploads": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: blobuploads")
		}
		r, ok := scriptRegistries.Load(ts)
		if !ok {
			ts.Fatalf("no registry: run \"registry\" first")
		}
		n := r.(*testimage.Registry).Uploads()
		last, _ := uploadsSeen.Swap(ts, n)
		if last != nil {
			n -= last.(int64)
		}
		fmt.Fprintln(ts.Stdout(), n)
	},
	// registrydigest REF [FILE]: print the manifest digest the registry serves
	// for REF; with FILE, fail unless FILE holds it.
	"registrydigest": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 1 || len(args) > 2 {
			ts.Fatalf("usage: registrydigest REF [FILE]")
		}
		ref, err := name.ParseReference(args[0])
		ts.Check(err)
		desc, err := remote.Head(ref)
		ts.Check(err)
		fmt.Fprintln(ts.Stdout(), desc.Digest)
		if len(args) == 2 && !strings.Contains(ts.ReadFile(args[1]), desc.Digest.String()) {
			ts.Fatalf("%s does not name %s's digest %s", args[1], args[0], desc.Digest)
		}
	},
	// layoutdigest DIR: print the manifest digest of each image of the OCI
	// layout DIR, one a line.
	"layoutdigest": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: layoutdigest DIR")
		}
		p, err := layout.FromPath(ts.MkAbs(args[0]))
		ts.Check(err)
		idx, err := p.ImageIndex()
		ts.Check(err)
		m, err := idx.IndexManifest()
		ts.Check(err)
		for _, d := range m.Manifests {
			fmt.Fprintln(ts.Stdout(), d.Digest)
		}
	},
	// jsonfield FILE PATH...: print the value at PATH (keys, or indexes
	// of arrays) of the JSON file, as JSON.
	"jsonfield": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 1 {
			ts.Fatalf("usage: jsonfield FILE PATH...")
		}
		var v any
		ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &v))
		for _, k := range args[1:] {
			switch x := v.(type) {
			case map[string]any:
				v = x[k]
			case []any:
				var i int
				fmt.Sscan(k, &i)
				v = x[i]
			default:
				ts.Fatalf("%s: no %s", args[0], k)
			}
		}
		b, err := json.Marshal(v)
		ts.Check(err)
		fmt.Fprintln(ts.Stdout(), string(b))
	},
}

// resetPodman removes what the script's podman made (its storage holds
// files of subordinate ids that the script's clean-up could not remove)
// and ends its pause process.
func resetPodman(ts *testscript.TestScript, base string) {
	cmd := exec.Command("podman", "system", "reset", "--force")
	cmd.Env = podmanEnv(ts, base)
	if out, err := cmd.CombinedOutput(); err != nil {
		ts.Logf("podman system reset: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(base, "run/libpod/tmp/pause.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// podmanEnv is the environment of the scripts' podman: its own
// directories under base.
func podmanEnv(ts *testscript.TestScript, base string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + ts.Getenv("HOME"),
		"XDG_RUNTIME_DIR=" + filepath.Join(base, "run"),
		"XDG_DATA_HOME=" + filepath.Join(base, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(base, "config"),
		"CONTAINERS_CONF=" + filepath.Join(base, "config/containers/containers.conf"),
	}
}
