package layers

import (
	"os"
	"syscall"
	"time"
)

// changedAfter reports whether path's status changed after t. A layer's
// ctime is when it was renamed into place (rename changes the moved inode's
// ctime), which is when a build or pull made it.
func changedAfter(path string, t time.Time) bool {
	fi, err := os.Lstat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.ModTime().After(t)
	}
	return time.Unix(st.Ctim.Sec, st.Ctim.Nsec).After(t)
}
