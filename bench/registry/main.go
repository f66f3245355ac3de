// Command registry serves the benchmarks' images on a loopback port, prints
// host:port and serves until killed:
//
//	bench/debian:bookworm   the Debian test image (mmdebstrap, one gzip layer)
//	bench/debian:zstd       the same with its layer compressed with zstd (-zstd)
//	bench/layers:N          busybox and N-1 small layers, for each N of -layers
//
// bench/build.sh, export.sh, pull.sh and start.sh use it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nookenv/nook/internal/testimage"
)

func main() {
	withZstd := flag.Bool("zstd", false, "serve bench/debian:zstd too")
	layerCounts := flag.String("layers", "", "serve bench/layers:N for each `N,N,…`")
	noDebian := flag.Bool("no-debian", false, "leave the Debian images out (no mmdebstrap needed)")
	flag.Parse()
	reg := testimage.NewRegistry()
	defer reg.Close()
	images := map[string]func() (v1.Image, error){}
	if !*noDebian {
		images["bench/debian:bookworm"] = testimage.Debian
		if *withZstd {
			images["bench/debian:zstd"] = testimage.DebianZstd
		}
	}
	for _, s := range strings.Split(*layerCounts, ",") {
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fail(fmt.Errorf("-layers: %q is not a layer count", s))
		}
		images["bench/layers:"+s] = func() (v1.Image, error) { return testimage.Layers(n) }
	}
	for ref, make := range images {
		img, err := make()
		if err != nil {
			fail(err)
		}
		if _, err := reg.Push(ref, img); err != nil {
			fail(err)
		}
	}
	fmt.Println(reg.Host)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "registry:", err)
	os.Exit(1)
}
