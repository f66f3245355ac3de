package env_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nookenv/nook/env"
)

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "nook.toml"), []byte(`
image = "debian:bookworm"
env   = { GREETING = "hello" }

[roles.server]
command = ["python3", "-m", "http.server", "8000"]
ports   = ["127.0.0.1:8000:8000"]
`), 0o644)

	path, err := env.Find(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := env.Load(path)
	if err != nil {
		fmt.Println(err) // every problem, as FILE:LINE:COL: KEY: MSG lines
		return
	}
	e, err := env.Resolve(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	server := e.Roles["server"]
	fmt.Println(e.Image, e.Workdir)
	fmt.Println(server.Command, server.Ports[0], server.Vars)
	// Output:
	// debian:bookworm /work
	// [python3 -m http.server 8000] 127.0.0.1:8000:8000/tcp [GREETING=hello]
}
