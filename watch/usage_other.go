//go:build !linux

package watch

// InUse counts inotify instances and watches in use; only Linux has them.
func InUse(proc string) (instances, watches int) { return 0, 0 }
