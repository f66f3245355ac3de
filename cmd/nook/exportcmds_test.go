package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"
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

var exportCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// podman ARGS...: run podman with a storage, configuration and run
	// directory of the script's own (under $WORK/podman), removed with
	// `podman system reset` when the script ends. Guard it with [podman].
	"podman": func(ts *testscript.TestScript, neg bool, args []string) {
		base := ts.MkAbs("podman")
		if _, err := os.Stat(base); err != nil {
			for _, d := range []string{"run", "data", "config/containers"} {
				ts.Check(os.MkdirAll(filepath.Join(base, d), 0o700))
			}
			ts.Check(os.WriteFile(filepath.Join(base, "config/containers/containers.conf"), []byte(podmanConf), 0o644))
			ts.Defer(func() {
				cmd := exec.Command("podman", "system", "reset", "--force")
				cmd.Env = podmanEnv(ts, base)
				if out, err := cmd.CombinedOutput(); err != nil {
					ts.Logf("podman system reset: %v\n%s", err, out)
				}
			})
		}
		cmd := exec.Command("podman", args...)
		cmd.Env = podmanEnv(ts, base)
		cmd.Dir = ts.Getenv("PWD")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		ts.Stdout().Write([]byte(stdout.String()))
		ts.Stderr().Write([]byte(stderr.String()))
		if (err != nil) != neg {
			ts.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
	},
	// registrydigest REF: print the manifest digest the registry serves
	// for REF.
	"registrydigest": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: registrydigest REF")
		}
		ref, err := name.ParseReference(args[0])
		ts.Check(err)
		desc, err := remote.Head(ref)
		ts.Check(err)
		fmt.Fprintln(ts.Stdout(), desc.Digest)
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
