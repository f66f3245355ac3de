// Command mkimage writes the benchmark's test image into DIR: busybox.tar
// (a docker archive, for nook and `podman load`), layout/ (an OCI layout)
// and rootfs/ (the same files as a plain directory, for bwrap).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nookenv/nook/internal/testimage"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkimage DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	img, err := testimage.Busybox()
	if err != nil {
		return err
	}
	if err := testimage.WriteArchive(filepath.Join(dir, "busybox.tar"), "localhost/nook-bench/busybox:latest", img); err != nil {
		return err
	}
	if err := testimage.WriteLayout(filepath.Join(dir, "layout"), "latest", img); err != nil {
		return err
	}
	return testimage.WriteRootfs(filepath.Join(dir, "rootfs"))
}
