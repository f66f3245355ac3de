//go:build !linux

package export

import (
	"errors"
	"os"
	"time"
)

// LayerTarName is the name under which export re-executes nook on Linux.
const LayerTarName = "nook-layer-tar"

// layerTar reads layers of the store; only Linux has them.
type layerTar struct{}

func openLayerTar(string, time.Time) (*layerTar, error) {
	return nil, errors.New("exporting needs Linux")
}

func (*layerTar) Read([]byte) (int, error) { return 0, errors.New("exporting needs Linux") }
func (*layerTar) Close() error             { return nil }

// LayerTarMain is the body of nook re-executed as LayerTarName, which only
// happens on Linux. It never returns.
func LayerTarMain() { os.Exit(2) }
