package export

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nookenv/nook/rootless"
)

// LayerTarName is the name (argv[0]) under which export re-executes nook to
// read a layer of the store as root of a user namespace: main routes it to
// LayerTarMain.
const LayerTarName = "nook-layer-tar"

// layerTar is a layer directory's tar stream as nook re-executed as
// LayerTarName writes it. The files of a layer built under the full id map
// belong to subordinate ids, which only such a namespace may read, and
// there stat shows the owners a role sees: under the single map, root
// (you); under the full map, the ids of the image's users.
//
// The child dies with the thread that started it, so the goroutine that
// opens a layerTar keeps its thread until it closes it: read it there.
type layerTar struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	gate   io.Closer
	stderr bytes.Buffer
	dir    string
}

// openLayerTar starts the tar of layer directory dir, times clamped to
// clamp.
func openLayerTar(dir string, clamp time.Time) (*layerTar, error) {
	t := &layerTar{dir: dir}
	t.cmd = &exec.Cmd{Args: []string{LayerTarName, dir, strconv.FormatInt(clamp.Unix(), 10)}, Env: []string{}, Stderr: &t.stderr}
	out, err := t.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	gate, err := rootless.StartAsRoot(t.cmd)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("reading layer %s: %w", dir, err)
	}
	t.out, t.gate = out, gate
	return t, nil
}

func (t *layerTar) Read(p []byte) (int, error) { return t.out.Read(p) }

// Close waits for the child and says why it failed.
func (t *layerTar) Close() error {
	defer runtime.UnlockOSThread()
	defer t.gate.Close()
	t.out.Close() // a reader that stopped early ends the child (EPIPE)
	if err := t.cmd.Wait(); err != nil {
		if msg := strings.TrimSpace(t.stderr.String()); msg != "" {
			return fmt.Errorf("reading layer %s: %s", t.dir, msg)
		}
		return fmt.Errorf("reading layer %s: %w", t.dir, err)
	}
	return nil
}

// LayerTarMain is the body of nook re-executed as LayerTarName: as root of
// its user namespace it writes the layer directory of its first argument
// to stdout as an OCI layer tar, times clamped to its second (Unix
// seconds), and exits 0, or reports on stderr and exits 1. main calls it
// first thing when filepath.Base(os.Args[0]) == LayerTarName. It never
// returns.
func LayerTarMain() {
	rootless.AwaitIDMap()
	if len(os.Args) != 3 {
		fmt.Fprintf(os.Stderr, "usage: %s DIR CLAMP\n", LayerTarName)
		os.Exit(2)
	}
	sec, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: bad time %q\n", LayerTarName, os.Args[2])
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 256<<10)
	err = writeLayerDir(w, os.Args[1], time.Unix(sec, 0))
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		if errors.Is(err, os.ErrClosed) || strings.Contains(err.Error(), "broken pipe") {
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "as root of a user namespace: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}
