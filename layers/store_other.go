//go:build !linux

package layers

import (
	"context"
	"errors"
)

// errNotLinux is what the store's locking and syncing say off Linux: nook
// builds elsewhere so that its packages can be read and vetted, but it runs
// on Linux only.
var errNotLinux = errors.New("the layer store needs Linux")

type fileLock struct{}

func lockFile(context.Context, string) (*fileLock, error)  { return nil, errNotLinux }
func tryLockFile(string) (l *fileLock, ok bool, err error) { return nil, false, errNotLinux }
func (*fileLock) unlock()                                  {}
func syncDir(string) error                                 { return errNotLinux }
