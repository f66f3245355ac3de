// Command registry serves the Debian test image as bench/debian:bookworm
// on a loopback port for bench/build.sh, prints host:port and serves until
// killed.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nookenv/nook/internal/testimage"
)

func main() {
	img, err := testimage.Debian()
	if err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
	reg := testimage.NewRegistry()
	defer reg.Close()
	if _, err := reg.Push("bench/debian:bookworm", img); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
	fmt.Println(reg.Host)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
