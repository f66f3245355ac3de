//go:build !linux

package layers

import (
	"os"
	"time"
)

// changedAfter reports whether path was modified after t.
func changedAfter(path string, t time.Time) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.ModTime().After(t)
}
