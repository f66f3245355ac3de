package watch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// watchMask is what a directory watch asks the kernel for. It leaves out
// IN_ATTRIB: a chmod or chown alone is no change. IN_CLOSE_WRITE makes a
// `touch` of an existing file count. IN_ONLYDIR and IN_DONT_FOLLOW refuse to
// watch through a symbolic link, IN_EXCL_UNLINK drops events of unlinked
// files still open.
const watchMask = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_CLOSE_WRITE |
	unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
	unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW | unix.IN_EXCL_UNLINK

// inotify is a notifier on one inotify instance.
type inotify struct {
	fd   int
	file *os.File // the same descriptor, non-blocking, in Go's poller: closing it ends a pending read
	out  chan []change
	stop chan struct{}
	done chan struct{}
}

func newNotifier() (notifier, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	n := &inotify{
		fd:   fd,
		file: os.NewFile(uintptr(fd), "inotify"),
		out:  make(chan []change),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go n.read()
	return n, nil
}

func (n *inotify) add(dir string) (int, error) {
	wd, err := unix.InotifyAddWatch(n.fd, dir, watchMask)
	if err != nil {
		return -1, err
	}
	return wd, nil
}

func (n *inotify) remove(wd int) error {
	_, err := unix.InotifyRmWatch(n.fd, uint32(wd))
	return err
}

func (n *inotify) changes() <-chan []change { return n.out }

// close ends the reader and releases the instance with all its watches.
func (n *inotify) close() error {
	close(n.stop)
	err := n.file.Close()
	<-n.done
	return err
}

// read turns what the kernel queues into batches of changes, one batch per
// read(2), until the instance is closed.
func (n *inotify) read() {
	defer close(n.done)
	buf := make([]byte, 64<<10)
	for {
		k, err := n.file.Read(buf)
		var batch []change
		switch {
		case errors.Is(err, os.ErrClosed):
			return
		case err != nil:
			batch = []change{{op: opError, err: fmt.Errorf("reading inotify events: %w", err)}}
		default:
			batch = parseEvents(buf[:k])
		}
		if len(batch) > 0 {
			select {
			case n.out <- batch:
			case <-n.stop:
				return
			}
		}
		if err != nil {
			return // a read error other than closing is not expected to heal
		}
	}
}

// parseEvents decodes struct inotify_event records (see inotify(7)).
func parseEvents(b []byte) []change {
	var batch []change
	for len(b) >= unix.SizeofInotifyEvent {
		wd := int32(binary.NativeEndian.Uint32(b[0:]))
		mask := binary.NativeEndian.Uint32(b[4:])
		nameLen := int(binary.NativeEndian.Uint32(b[12:]))
		end := min(unix.SizeofInotifyEvent+nameLen, len(b))
		name := strings.TrimRight(string(b[unix.SizeofInotifyEvent:end]), "\x00")
		b = b[end:]
		c := change{wd: int(wd), name: name, isDir: mask&unix.IN_ISDIR != 0}
		switch {
		case mask&unix.IN_Q_OVERFLOW != 0:
			c.op = opOverflow
		case mask&unix.IN_IGNORED != 0:
			c.op = opIgnored
		case mask&unix.IN_UNMOUNT != 0:
			c.op = opUnmount
		case mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0:
			c.op = opSelfGone
		case mask&unix.IN_CREATE != 0:
			c.op = opCreate
		case mask&unix.IN_MOVED_TO != 0:
			c.op = opMoveTo
		case mask&unix.IN_MOVED_FROM != 0:
			c.op = opMoveFrom
		case mask&unix.IN_DELETE != 0:
			c.op = opRemove
		case mask&(unix.IN_MODIFY|unix.IN_CLOSE_WRITE) != 0:
			c.op = opWrite
		default:
			continue
		}
		batch = append(batch, c)
	}
	return batch
}

// readDir lists a directory, refusing to follow a symbolic link that took
// its place.
func readDir(dir string) ([]os.DirEntry, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// fileID identifies a directory whatever its name (a bind mount gives it two).
type fileID struct{ dev, ino uint64 }

func dirID(dir string) (fileID, bool) {
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil {
		return fileID{}, false
	}
	return fileID{dev: st.Dev, ino: st.Ino}, true
}
