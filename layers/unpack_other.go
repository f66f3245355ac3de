//go:build !linux

package layers

import (
	"errors"
	"io"
)

func unpack(r io.Reader, dir string) error {
	return errors.New("unpacking layers needs Linux: it relies on openat2 and overlayfs whiteouts")
}
