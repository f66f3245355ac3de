package testimage

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// Available reports why images cannot be built here, or "" when they can.
func Available() string {
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil || !strings.Contains(string(out), "sh\n") {
		return fmt.Sprintf("%s is not a usable busybox (install Debian's busybox-static)", BusyboxPath)
	}
	if ldd, _ := exec.Command("ldd", BusyboxPath).CombinedOutput(); !strings.Contains(string(ldd), "not a dynamic") && !strings.Contains(string(ldd), "statically linked") {
		return fmt.Sprintf("%s is not statically linked (install Debian's busybox-static)", BusyboxPath)
	}
	return ""
}

// Layer makes a gzip-compressed image layer from a tar stream.
func Layer(tarStream []byte) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tarStream)), nil })
}

// Image stacks layers made from the given tar streams into an image whose
// config sets a PATH and the working directory "/".
func Image(layerTars ...[]byte) (v1.Image, error) {
	img := empty.Image
	for i, t := range layerTars {
		l, err := Layer(t)
		if err != nil {
			return nil, fmt.Errorf("making layer %d: %w", i, err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return nil, fmt.Errorf("appending layer %d: %w", i, err)
		}
	}
	return mutate.Config(img, v1.Config{
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "IMAGE_VAR=from-image"},
		WorkingDir: "/",
		Cmd:        []string{"/bin/sh"},
	})
}

// BusyboxLayers returns the tar streams of the test busybox image:
//
//	layer 1: /bin/busybox with a symlink per applet, /etc/passwd, /etc/group,
//	         /root, /tmp, /lower/{gone,kept}.txt, /opaque/old.txt
//	layer 2: a whiteout of /lower/gone.txt, /opaque made opaque with
//	         /opaque/new.txt, /etc/motd
func BusyboxLayers() ([][]byte, error) {
	bin, applets, err := busybox()
	if err != nil {
		return nil, err
	}
	base := []Entry{
		Dir("bin"), {Name: "bin/busybox", Body: bin, Mode: 0o755},
		Dir("etc"),
		File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
		File("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
		{Name: "root", Type: '5', Mode: 0o700}, {Name: "tmp", Type: '5', Mode: 0o1777},
		Dir("lower"), File("lower/gone.txt", "gone\n"), File("lower/kept.txt", "kept\n"),
		Dir("opaque"), File("opaque/old.txt", "old\n"),
	}
	for _, applet := range applets {
		base = append(base, Symlink("bin/"+applet, "busybox"))
	}
	top := []Entry{
		Dir("lower"), {Name: "lower/.wh.gone.txt", Mode: 0o644},
		Dir("opaque"), {Name: "opaque/.wh..wh..opq", Mode: 0o644}, File("opaque/new.txt", "new\n"),
		Dir("etc"), File("etc/motd", "welcome to the nook test image\n"),
	}
	return [][]byte{Tar(base...), Tar(top...)}, nil
}

// Busybox returns the test busybox image (see BusyboxLayers).
func Busybox() (v1.Image, error) {
	layers, err := BusyboxLayers()
	if err != nil {
		return nil, err
	}
	return Image(layers...)
}

// WriteRootfs writes the files of the busybox image's first layer as a plain
// directory at dir: /bin/busybox with a symlink per applet, /etc, /tmp,
// /proc and /dev mount points. It is what bwrap gets in the benchmarks.
func WriteRootfs(dir string) error {
	bin, applets, err := busybox()
	if err != nil {
		return err
	}
	for _, d := range []string{"bin", "etc", "tmp", "proc", "dev", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), bin, 0o755); err != nil {
		return err
	}
	for _, applet := range applets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", applet)); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
}

// busybox returns the host's busybox binary and its applets other than
// busybox itself.
func busybox() ([]byte, []string, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, nil, fmt.Errorf("reading busybox: %w", err)
	}
	list, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("listing busybox applets: %w", err)
	}
	applets := slices.DeleteFunc(strings.Fields(string(list)), func(a string) bool { return a == "busybox" })
	return bin, applets, nil
}

// OpaqueRoot returns an image whose second layer starts afresh: an opaque
// whiteout at its root (".wh..wh..opq" in /) hides everything the first
// layer (the busybox image's, with /lower and /etc/passwd) holds, and it
// brings its own /bin/busybox with its applets and /fresh.txt.
func OpaqueRoot() (v1.Image, error) {
	layers, err := BusyboxLayers()
	if err != nil {
		return nil, err
	}
	bin, applets, err := busybox()
	if err != nil {
		return nil, err
	}
	top := []Entry{
		{Name: ".wh..wh..opq", Mode: 0o644},
		Dir("bin"), {Name: "bin/busybox", Body: bin, Mode: 0o755},
		File("fresh.txt", "fresh\n"),
	}
	for _, applet := range applets {
		top = append(top, Symlink("bin/"+applet, "busybox"))
	}
	return Image(layers[0], Tar(top...))
}

// Layers returns an image of n layers: the busybox image's first layer,
// then n-1 small ones, each adding a directory with one 4 KiB file. The
// work of pulling and starting it grows with n, not with its size.
func Layers(n int) (v1.Image, error) {
	busybox, err := BusyboxLayers()
	if err != nil {
		return nil, err
	}
	tars := [][]byte{busybox[0]}
	for i := 1; i < n; i++ {
		d := fmt.Sprintf("layer%03d", i)
		tars = append(tars, Tar(Dir(d), File(d+"/data", strings.Repeat(fmt.Sprintf("%03d\n", i), 1024))))
	}
	return Image(tars...)
}
