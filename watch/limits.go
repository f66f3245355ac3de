package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The inotify limits a LimitError can name.
const (
	MaxUserWatches   = "fs.inotify.max_user_watches"   // watches per user: one per watched directory
	MaxUserInstances = "fs.inotify.max_user_instances" // inotify instances per user: one per Watcher
	MaxQueuedEvents  = "fs.inotify.max_queued_events"  // events the kernel queues before dropping them
)

// procInotify is where the kernel shows the inotify limits.
const procInotify = "/proc/sys/fs/inotify"

// LimitError reports that a kernel limit on inotify stopped the watcher from
// watching (part of) the project, or made it lose events. Its Hint gives the
// sysctl command that raises the limit.
type LimitError struct {
	Op      string // what was being done: "watching /home/me/proj", "starting to watch /home/me/proj"
	Sysctl  string // MaxUserWatches, MaxUserInstances or MaxQueuedEvents
	Current int    // the limit's value, read from /proc/sys/fs/inotify (0 when unreadable)
	Needed  int    // for MaxUserWatches: the directories of the project that need a watch each
	Err     error  // the kernel's error (ENOSPC, EMFILE), nil for lost events
}

// Error reads "OP: WHAT (SYSCTL = CURRENT…): ERR".
func (e *LimitError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op + ": ")
	switch e.Sysctl {
	case MaxUserWatches:
		b.WriteString("out of inotify watches")
	case MaxUserInstances:
		b.WriteString("out of inotify instances")
	case MaxQueuedEvents:
		b.WriteString("the kernel dropped file events; every rule is triggered")
	}
	fmt.Fprintf(&b, " (%s = %s", e.Sysctl, e.current())
	if e.Needed > 0 {
		fmt.Fprintf(&b, "; the project has %d directories to watch", e.Needed)
	}
	b.WriteString(")")
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kernel's error.
func (e *LimitError) Unwrap() error { return e.Err }

// Commands are the command that raises the limit to Suggested, and the
// one that keeps it across reboots.
func (e *LimitError) Commands() (raise, keep string) {
	set := fmt.Sprintf("%s=%d", e.Sysctl, e.Suggested())
	return "sudo sysctl " + set, "echo " + set + " | sudo tee /etc/sysctl.d/90-nook-inotify.conf"
}

// Hint gives the command that raises the limit, and how to keep it.
func (e *LimitError) Hint() string {
	raise, keep := e.Commands()
	var why string
	switch e.Sysctl {
	case MaxUserWatches:
		why = "each watched directory takes one watch, and the limit is shared with your other file watchers (editors, IDEs); raise it"
	case MaxUserInstances:
		why = "stop file watchers you no longer need, or raise the limit"
	default:
		why = "raise the kernel's event queue"
	}
	return fmt.Sprintf("%s: %s (to keep it: %s)", why, raise, keep)
}

// Suggested is the value the hint proposes: room for the project and more,
// and never less than the value common distributions and IDEs recommend.
func (e *LimitError) Suggested() int {
	switch e.Sysctl {
	case MaxUserWatches:
		return max(524288, roundUp(e.Current+e.Needed, 65536))
	case MaxUserInstances:
		return max(512, 2*e.Current)
	default:
		return max(65536, 2*e.Current)
	}
}

func (e *LimitError) current() string {
	if e.Current <= 0 {
		return "unknown"
	}
	return strconv.Itoa(e.Current)
}

func roundUp(n, step int) int { return (n + step - 1) / step * step }

// Limit reads one of the inotify limits (MaxUserWatches,
// MaxUserInstances, MaxQueuedEvents) from dir, the /proc/sys/fs/inotify
// directory; 0 when it cannot.
func Limit(dir, sysctl string) int { return readLimit(dir, sysctl) }

// readLimit reads one of the inotify limits, by sysctl name, from dir (the
// /proc/sys/fs/inotify directory); 0 when it cannot.
func readLimit(dir, sysctl string) int {
	data, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(sysctl, "fs.inotify.")))
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return n
}
