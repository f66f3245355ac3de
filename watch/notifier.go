package watch

// notifier is the kernel side of a Watcher: one watch per directory, and the
// changes in watched directories, read in batches. inotify implements it on
// Linux; tests wrap it to provoke the kernel's limits.
type notifier interface {
	add(dir string) (int, error) // watch a directory, without following a symbolic link; returns the watch's id
	remove(wd int) error
	changes() <-chan []change
	close() error
}

// change is one event of a notifier.
type change struct {
	wd    int    // the watched directory
	name  string // the entry of that directory concerned; "" for the directory itself
	op    changeOp
	isDir bool  // the entry is a directory
	err   error // for opError
}

type changeOp uint8

const (
	opCreate   changeOp = iota + 1 // an entry was created
	opMoveTo                       // an entry was renamed into the directory
	opWrite                        // a file was written to, or closed after being opened for writing
	opRemove                       // an entry was deleted
	opMoveFrom                     // an entry was renamed out of the directory
	opSelfGone                     // the watched directory itself was deleted or moved
	opUnmount                      // the file system of the watched directory was unmounted
	opIgnored                      // the watch is gone (removed, or its directory deleted)
	opOverflow                     // the kernel dropped events
	opError                        // reading events failed
)

// appears reports whether the op brings the entry into existence.
func (op changeOp) appears() bool { return op == opCreate || op == opMoveTo }

// disappears reports whether the op takes the entry away.
func (op changeOp) disappears() bool { return op == opRemove || op == opMoveFrom }
