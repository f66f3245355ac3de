//go:build !linux

package watch

import (
	"errors"
	"fmt"
	"os"
)

// newNotifier fails: watching needs Linux's inotify.
func newNotifier() (notifier, error) {
	return nil, fmt.Errorf("watching files needs inotify (Linux): %w", errors.ErrUnsupported)
}

// readDir lists a directory.
func readDir(dir string) ([]os.DirEntry, error) { return os.ReadDir(dir) }

// fileID would identify a directory whatever its name; here there is none.
type fileID struct{}

func dirID(string) (fileID, bool) { return fileID{}, false }
