package watch

import (
	"bytes"
	"os"
	"path/filepath"
)

// InUse counts the inotify instances and watches of the processes under
// proc (normally /proc) that this user may look into: how much of
// fs.inotify.max_user_instances and max_user_watches is taken already,
// by editors, IDEs and other watchers. Processes of other users are not
// counted (their descriptors cannot be read, and their limits are
// theirs).
func InUse(proc string) (instances, watches int) {
	pids, _ := filepath.Glob(filepath.Join(proc, "[0-9]*"))
	for _, pid := range pids {
		fds, err := os.ReadDir(filepath.Join(pid, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(pid, "fd", fd.Name()))
			if err != nil || link != "anon_inode:inotify" {
				continue
			}
			instances++
			info, err := os.ReadFile(filepath.Join(pid, "fdinfo", fd.Name()))
			if err == nil {
				watches += bytes.Count(info, []byte("inotify wd:"))
			}
		}
	}
	return instances, watches
}
