//go:build !linux

package layers

import (
	"errors"
	"io"
)

func unpack(r io.Reader, dir string) (Unpacked, error) {
	return Unpacked{}, errors.New("unpacking layers needs Linux: it relies on openat2 and overlayfs whiteouts")
}

func (s *Store) stackFrom([]string) (int, error) { return 0, errors.New("reading layers needs Linux") }
