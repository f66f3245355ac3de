package testimage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DebianSuite is the Debian release of the Debian test image.
const DebianSuite = "bookworm"

// debianLayer is the cached, gzipped layer of the Debian test image: the
// tarball mmdebstrap writes, as it is (device nodes under /dev included).
const debianLayer = "debian-" + DebianSuite + "-apt-mmdebstrap.tar.gz"

// DebianAvailable reports why the Debian test image cannot be made here, or
// "" when it can: it needs mmdebstrap (and, the first time, subordinate ids
// for its unshare mode and Debian's mirror).
func DebianAvailable() string {
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return "mmdebstrap is not installed (apt-get install mmdebstrap): the Debian test image cannot be made"
	}
	return ""
}

// CacheDir is where test fixtures that take long to make are kept between
// runs: $XDG_CACHE_HOME/nook-test, else ~/.cache/nook-test.
func CacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "nook-test"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the test cache: %w", err)
	}
	return filepath.Join(home, ".cache", "nook-test"), nil
}

// Debian returns a real Debian image (DebianSuite, mmdebstrap's "apt"
// variant: essential packages and apt) with one layer: the root filesystem
// exactly as mmdebstrap makes it, its /dev nodes included, as images made
// by mmdebstrap, debootstrap or `docker import` carry them. The first call
// on a machine runs `mmdebstrap --mode=unshare --variant=apt`, which
// downloads from Debian's mirror, and caches the layer under CacheDir; a
// file lock makes concurrent test binaries build it once. Within a process
// the image (its digests computed once) is made once.
func Debian() (v1.Image, error) {
	debianOnce.Do(func() { debianImage, debianErr = debian() })
	return debianImage, debianErr
}

var (
	debianOnce  sync.Once
	debianImage v1.Image
	debianErr   error
)

func debian() (v1.Image, error) {
	layerPath, err := cachedRootfs(debianLayer)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromFile(layerPath)
	if err != nil {
		return nil, fmt.Errorf("reading the Debian layer %s: %w", layerPath, err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("making the Debian image: %w", err)
	}
	return mutate.Config(img, debianConfig())
}

// debianConfig is the config of the Debian test images.
func debianConfig() v1.Config {
	return v1.Config{
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		WorkingDir: "/",
		Cmd:        []string{"bash"},
	}
}

// cachedRootfs returns the path of the gzipped layer name under CacheDir:
// a Debian root filesystem as `mmdebstrap --variant=apt` makes it, with
// extra arguments (packages to include, hooks), made on first use under a
// file lock, so that concurrent test binaries make it once. A change of
// the arguments needs a new name.
func cachedRootfs(name string, extra ...string) (string, error) {
	if why := DebianAvailable(); why != "" {
		return "", errors.New(why)
	}
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("making the test cache %s: %w", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "debian.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("opening the Debian fixture lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	layerPath := filepath.Join(dir, name)
	if _, err := os.Stat(layerPath); errors.Is(err, fs.ErrNotExist) {
		if err := makeDebianLayer(dir, layerPath, extra); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	return layerPath, nil
}

// makeDebianLayer runs mmdebstrap (with extra arguments) into a temporary
// tarball in dir and writes it, gzipped, to layerPath.
func makeDebianLayer(dir, layerPath string, extra []string) error {
	raw := filepath.Join(dir, fmt.Sprintf("debian-%s.%d.tar", DebianSuite, os.Getpid()))
	defer os.Remove(raw)
	args := append([]string{"--mode=unshare", "--variant=apt", "--format=tar", "--quiet"}, extra...)
	cmd := exec.Command("mmdebstrap", append(args, DebianSuite, raw)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("running %s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	in, err := os.Open(raw)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := layerPath + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	zw, err := gzip.NewWriterLevel(out, gzip.BestSpeed)
	if err != nil {
		out.Close()
		return err
	}
	_, err = io.Copy(zw, in)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the Debian layer %s: %w", tmp, err)
	}
	return os.Rename(tmp, layerPath)
}

// DebianZstd returns the Debian test image with its layer compressed with
// zstd (level 3, zstd's default) instead of gzip: the same files. The zstd
// blob is made once from the gzipped one and cached beside it.
func DebianZstd() (v1.Image, error) {
	gz, err := cachedRootfs(debianLayer)
	if err != nil {
		return nil, err
	}
	zst := strings.TrimSuffix(gz, ".gz") + ".zst"
	if _, err := os.Stat(zst); errors.Is(err, fs.ErrNotExist) {
		if err := recompressZstd(gz, zst); err != nil {
			return nil, fmt.Errorf("making the zstd Debian layer %s: %w", zst, err)
		}
	} else if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromFile(zst, tarball.WithMediaType(types.OCILayerZStd))
	if err != nil {
		return nil, fmt.Errorf("reading the Debian layer %s: %w", zst, err)
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, fmt.Errorf("making the zstd Debian image: %w", err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	return mutate.Config(img, debianConfig())
}

// recompressZstd writes the gzipped file gz again, zstd-compressed, to zst.
func recompressZstd(gz, zst string) error {
	in, err := os.Open(gz)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return err
	}
	tmp := zst + fmt.Sprintf(".%d.tmp", os.Getpid())
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	zw, err := zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		out.Close()
		return err
	}
	_, err = io.Copy(zw, zr)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, zst)
}
