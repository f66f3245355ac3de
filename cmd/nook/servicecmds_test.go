package main

import (
	"encoding/json"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookenv/nook/internal/testimage"
)

// The fixtures of the scripts about roles on images of their own
// (services_*.txtar).
func init() {
	for n, f := range serviceCommands {
		scriptCommands[n] = f
	}
}

var serviceCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// configimage REPO:TAG [--entrypoint=JSON] [--cmd=JSON] [--env=K=V]...
	// [--workdir=DIR] [--user=USER] [PATH=CONTENT...]: push the test
	// busybox image with one more layer holding the files (as pushimage;
	// CONTENT @NAME is the script's file NAME) and this config to
	// $REGISTRY. Without --cmd the image has none.
	"configimage": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 1 {
			ts.Fatalf("usage: configimage REPO:TAG [--entrypoint=JSON] [--cmd=JSON] [--env=K=V]... [--workdir=DIR] [--user=USER] [PATH=CONTENT...]")
		}
		cfg := v1.Config{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}
		var files []string
		for _, a := range args[1:] {
			k, v, _ := strings.Cut(a, "=")
			switch k {
			case "--entrypoint":
				ts.Check(json.Unmarshal([]byte(v), &cfg.Entrypoint))
			case "--cmd":
				ts.Check(json.Unmarshal([]byte(v), &cfg.Cmd))
			case "--env":
				cfg.Env = append(cfg.Env, v)
			case "--workdir":
				cfg.WorkingDir = v
			case "--user":
				cfg.User = v
			default:
				if strings.HasPrefix(k, "--") {
					ts.Fatalf("configimage: unknown flag %s", k)
				}
				if name, ok := strings.CutPrefix(v, "@"); ok {
					data, err := os.ReadFile(ts.MkAbs(name))
					ts.Check(err)
					a = k + "=" + strings.TrimSuffix(string(data), "\n")
				}
				files = append(files, a)
			}
		}
		img, err := mutate.Config(busyboxWith(ts, files), cfg)
		ts.Check(err)
		push(ts, args[0], img)
	},
	// pgimage: push the Postgres test image (testimage.Postgres: Debian's
	// postgresql with an entrypoint like the official image's) to
	// $REGISTRY as test/postgres:15. Guard it with [debian].
	"pgimage": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: pgimage")
		}
		img, err := testimage.Postgres()
		ts.Check(err)
		push(ts, "test/postgres:"+testimage.PostgresMajor, img)
	},
}
