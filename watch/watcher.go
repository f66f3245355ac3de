package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultDebounce is the quiet period that ends a burst in `nook watch`
// (SPEC §8). Options.Debounce has no implicit default: set it to this.
const DefaultDebounce = 100 * time.Millisecond

// maxQueuedErrors bounds the errors kept for a consumer that does not read
// Errors; later ones are dropped.
const maxQueuedErrors = 64

// Options configure a Watcher.
type Options struct {
	Root  string // the project directory; only it is watched, never anything outside
	Rules []Rule
	// Debounce is the quiet period that ends a burst: a Trigger is ready when
	// no relevant change has arrived for that long. 0 makes every change a
	// burst of its own, ready at once. `nook watch` uses DefaultDebounce.
	Debounce time.Duration
	// Always are project-relative files that trigger with the Name "" on any
	// change, .gitignore or not (nook.toml, nook.lock).
	Always []string
}

// Watcher watches a project directory and sends a Trigger per burst of
// relevant changes. Its methods are safe to call from any goroutine.
type Watcher struct {
	root      string
	debounce  time.Duration
	rules     []rule
	names     []string        // the rules' names
	always    map[string]bool // Options.Always, cleaned
	alwaysDir map[string]bool // the directories holding them, watched whatever .gitignore says
	n         notifier
	procDir   string
	flushed   chan<- []string // tests: the files of each burst as it ends

	// Owned by the loop goroutine once New returns.
	dirs    dirWatches
	ignore  ignoreSet
	burst   map[string]*burstEntry // the burst in progress, by project-relative path
	noted   int                    // relevant changes noted so far, to tell whether a scan found any
	resync  bool                   // the ignore rules changed or events were lost: walk the tree at the end of the burst
	lost    bool                   // events were lost in this burst
	pending pending                // ended bursts the consumer has not received
	errs    []error                // errors the consumer has not received

	triggers  chan Trigger
	errors    chan error
	query     chan func()
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// burstEntry is what a burst saw happen to one path.
type burstEntry struct {
	isDir bool
	born  bool // the first change made it appear
	gone  bool // the last change made it disappear
}

// plumbing is what New takes from the system; tests substitute parts of it.
type plumbing struct {
	newNotifier func() (notifier, error)
	procDir     string          // /proc/sys/fs/inotify
	flushed     chan<- []string // when set, receives the files of each burst as it ends
}

// New watches opt.Root and starts sending Triggers. It fails when the
// project directory cannot be watched, on a malformed glob, and on an inotify
// limit (a *LimitError, with a Hint); problems with parts of the tree go to
// Errors.
func New(opt Options) (*Watcher, error) {
	return newWatcher(opt, plumbing{newNotifier: newNotifier, procDir: procInotify})
}

func newWatcher(opt Options, pl plumbing) (*Watcher, error) {
	w, err := configure(opt, pl)
	if err != nil {
		return nil, err
	}
	if w.n, err = pl.newNotifier(); err != nil {
		op := "starting to watch " + w.root
		if errors.Is(err, syscall.EMFILE) {
			return nil, &LimitError{Op: op, Sysctl: MaxUserInstances, Current: readLimit(w.procDir, MaxUserInstances), Err: err}
		}
		return nil, fmt.Errorf("%s: creating an inotify instance: %w", op, err)
	}
	if err := w.addTree("", walk{}); err != nil {
		w.n.close()
		return nil, err
	}
	go w.loop()
	return w, nil
}

// CountDirs counts the directories of opt.Root that a Watcher of opt
// would watch, each taking one inotify watch (fs.inotify.max_user_watches),
// without watching anything: nook doctor compares it with the limit.
func CountDirs(opt Options) (int, error) {
	w, err := configure(opt, plumbing{procDir: procInotify})
	if err != nil {
		return 0, err
	}
	return w.countDirs("", map[fileID]bool{}), nil
}

// configure makes a Watcher of opt that watches nothing yet.
func configure(opt Options, pl plumbing) (*Watcher, error) {
	if opt.Debounce < 0 {
		return nil, fmt.Errorf("watching %s: negative debounce %v", opt.Root, opt.Debounce)
	}
	root, err := filepath.Abs(opt.Root)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", opt.Root, err)
	}
	w := &Watcher{
		root:      root,
		debounce:  opt.Debounce,
		always:    map[string]bool{},
		alwaysDir: map[string]bool{},
		procDir:   pl.procDir,
		flushed:   pl.flushed,
		dirs:      newDirWatches(),
		ignore:    ignoreSet{outer: outerRules(root), dirs: map[string][]ignoreRule{}},
		burst:     map[string]*burstEntry{},
		triggers:  make(chan Trigger),
		errors:    make(chan error),
		query:     make(chan func()),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	for _, r := range opt.Rules {
		c, err := compileRule(r)
		if err != nil {
			return nil, fmt.Errorf("watching %s: %w", root, err)
		}
		w.rules = append(w.rules, c)
		w.names = append(w.names, r.Name)
	}
	for _, a := range opt.Always {
		rel := path.Clean(filepath.ToSlash(a))
		if rel == "." || path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, fmt.Errorf("watching %s: always-watched path %q is not inside the project", root, a)
		}
		w.always[rel] = true
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			w.alwaysDir[d] = true
		}
	}
	return w, nil
}

// Triggers delivers one Trigger per burst. While a Trigger waits to be
// received, later bursts merge into it. The channel is closed by Close.
func (w *Watcher) Triggers() <-chan Trigger { return w.triggers }

// Errors delivers problems that do not stop the watcher: a directory that
// cannot be watched or listed, an inotify limit hit on a new directory
// (a *LimitError), lost events. Up to 64 wait for the consumer; later ones
// are dropped. The channel is closed by Close.
func (w *Watcher) Errors() <-chan error { return w.errors }

// Dirs returns the watched directories, project-relative ("" is the project
// directory), sorted; nil after Close.
func (w *Watcher) Dirs() []string {
	var dirs []string
	w.inLoop(func() {
		for d := range w.dirs.byDir {
			dirs = append(dirs, d)
		}
	})
	slices.Sort(dirs)
	return dirs
}

// Close stops watching, releases the inotify instance and closes the
// Triggers and Errors channels. A pending Trigger is dropped.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		close(w.stop)
		<-w.done
		w.closeErr = w.n.close()
		close(w.triggers)
		close(w.errors)
	})
	return w.closeErr
}

// inLoop runs f on the loop goroutine, which owns the watcher's state, and
// reports whether it ran (not after Close).
func (w *Watcher) inLoop(f func()) bool {
	ran := make(chan struct{})
	select {
	case w.query <- func() { f(); close(ran) }:
		<-ran
		return true
	case <-w.done:
		return false
	}
}

// loop owns the watcher's state: it handles the notifier's changes, ends
// bursts when they have been quiet for the debounce period and hands the
// pending Trigger and errors to the consumer whenever it is ready for them.
func (w *Watcher) loop() {
	defer close(w.done)
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	var quietC <-chan time.Time
	changes := w.n.changes()
	for {
		var out chan<- Trigger
		var next Trigger
		if !w.pending.empty() {
			out, next = w.triggers, w.pending.trigger(w.names, len(w.always) > 0)
		}
		var errOut chan<- error
		var nextErr error
		if len(w.errs) > 0 {
			errOut, nextErr = w.errors, w.errs[0]
		}
		select {
		case <-w.stop:
			return
		case batch, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
			relevant := false
			for _, c := range batch {
				if w.handle(c) {
					relevant = true
					if w.debounce == 0 {
						w.flush()
					}
				}
			}
			if relevant && w.debounce > 0 {
				quiet.Reset(w.debounce)
				quietC = quiet.C
			}
		case <-quietC:
			quietC = nil
			w.flush()
		case out <- next:
			w.pending.reset()
		case errOut <- nextErr:
			w.errs[0] = nil
			w.errs = w.errs[1:]
		case f := <-w.query:
			f()
		}
	}
}

// handle applies one change and reports whether it is relevant: it concerns
// a rule or an Always path, or changes the ignore rules.
func (w *Watcher) handle(c change) bool {
	switch c.op {
	case opError:
		w.report(c.err)
		return false
	case opOverflow:
		w.lost, w.resync = true, true
		w.report(&LimitError{Op: "watching " + w.root, Sysctl: MaxQueuedEvents, Current: readLimit(w.procDir, MaxQueuedEvents)})
		return true
	}
	dir, ok := w.dirs.byWd[c.wd]
	if !ok {
		return false // a watch already dropped
	}
	switch c.op {
	case opIgnored:
		if dw := w.dirs.byDir[dir]; dw != nil && dw.wd == c.wd {
			w.forgetTree(dir)
		}
		return false
	case opUnmount:
		w.resync = true // the mount point itself is still there to watch
		return true
	case opSelfGone:
		if dir == "" {
			w.report(fmt.Errorf("watching %s: the project directory was deleted or moved", w.root))
		}
		return false // its parent's watch reports it
	}
	rel := joinPath(dir, c.name)
	if c.isDir {
		switch {
		case c.op.appears():
			if dw := w.dirs.byDir[rel]; dw != nil {
				// Watched already: by the scan of its new parent (mkdir -p),
				// or it is a new directory renamed over the one we watched.
				if wd, err := w.n.add(w.abs(rel)); err != nil || wd != dw.wd {
					w.forgetTree(rel)
				}
			}
			if !w.watchable(rel) {
				return false
			}
			before := w.noted
			if err := w.addTree(rel, walk{report: true}); err != nil {
				w.report(err)
			}
			return w.noted > before
		case c.op.disappears():
			w.forgetTree(rel)
			// Moved away, its files went unseen: name the directory itself.
			return c.op == opMoveFrom && w.note(rel, true, c.op)
		}
		return false
	}
	relevant := w.note(rel, false, c.op)
	if c.name == ".gitignore" {
		w.ignore.load(w.root, dir)
		w.resync = true
		return true
	}
	return relevant
}

// note records a change to a path in the burst if it concerns a rule or is
// an Always path, and reports whether it did.
func (w *Watcher) note(rel string, isDir bool, op changeOp) bool {
	if rules, always := w.concerns(rel, isDir); len(rules) == 0 && !always {
		return false
	}
	e := w.burst[rel]
	if e == nil {
		e = &burstEntry{born: op.appears()}
		w.burst[rel] = e
	}
	e.isDir = isDir
	e.gone = op.disappears()
	w.noted++
	return true
}

// concerns returns the rules a path concerns and whether it is an Always
// path.
func (w *Watcher) concerns(rel string, isDir bool) (rules []int, always bool) {
	always = !isDir && w.always[rel]
	if w.ignore.ignored(rel, isDir) {
		return nil, always
	}
	segs := splitPath(rel)
	for i := range w.rules {
		if w.rules[i].concerns(segs, isDir) {
			rules = append(rules, i)
		}
	}
	return rules, always
}

// flush ends the burst: the paths that still concern something, leaving out
// those that appeared and disappeared within it, join the pending Trigger.
func (w *Watcher) flush() {
	if w.resync {
		w.resync = false
		w.resyncTree()
	}
	var files []string
	for rel, e := range w.burst {
		if e.born && e.gone {
			continue // an editor's temporary or backup file
		}
		rules, always := w.concerns(rel, e.isDir)
		if len(rules) == 0 && !always {
			continue
		}
		w.pending.add(rel, rules, always)
		files = append(files, rel)
	}
	clear(w.burst)
	if w.lost {
		w.lost = false
		w.pending.loseEvents()
	}
	if w.flushed != nil {
		slices.Sort(files)
		w.flushed <- files
	}
}

// report queues a non-fatal error for the consumer.
func (w *Watcher) report(err error) {
	if len(w.errs) < maxQueuedErrors {
		w.errs = append(w.errs, err)
	}
}

// abs returns the absolute path of a project-relative one.
func (w *Watcher) abs(rel string) string {
	return filepath.Join(w.root, filepath.FromSlash(rel))
}

// watchable reports whether a directory needs a watch: it holds an Always
// path, or is not ignored and some rule may concern a path below it.
func (w *Watcher) watchable(dir string) bool {
	if w.alwaysDir[dir] {
		return true
	}
	if w.ignore.ignored(dir, true) {
		return false
	}
	segs := splitPath(dir)
	for i := range w.rules {
		if w.rules[i].mayConcernUnder(segs) {
			return true
		}
	}
	return false
}

// walk is one descent of addTree.
type walk struct {
	report bool            // note the files found as created: the directory has just appeared
	seen   map[string]bool // when set, collects the directories visited
}

// addTree watches dir and, below it, every directory that needs a watch,
// reading their .gitignore files on the way down. Only a limit hit, or a
// failure on the project directory, stops it; other problems are reported.
func (w *Watcher) addTree(dir string, wk walk) error {
	abs := w.abs(dir)
	if _, ok := w.dirs.byDir[dir]; !ok {
		wd, err := w.n.add(abs)
		switch {
		case err == nil:
			if other, dup := w.dirs.byWd[wd]; dup && other != dir {
				return nil // the same directory under another name (a bind mount): watched once
			}
			w.dirs.add(dir, wd)
		case errors.Is(err, syscall.ENOSPC):
			return w.watchLimit(err)
		case dir == "":
			return fmt.Errorf("watching %s: %w", abs, err)
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
			return nil // gone already, or replaced by a file or a symbolic link
		default:
			w.report(fmt.Errorf("watching %s: %w", abs, err))
			return nil
		}
	}
	if wk.seen != nil {
		wk.seen[dir] = true
	}
	entries, err := w.list(dir)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		child := joinPath(dir, e.Name())
		if e.IsDir() {
			if w.watchable(child) {
				if err := w.addTree(child, wk); err != nil {
					return err
				}
			}
			continue
		}
		if wk.report {
			w.note(child, false, opCreate)
		}
	}
	return nil
}

// list reads a directory and its .gitignore; a directory that vanished is
// empty, other failures are reported.
func (w *Watcher) list(dir string) ([]fs.DirEntry, error) {
	entries, err := readDir(w.abs(dir))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			w.report(fmt.Errorf("listing %s: %w", w.abs(dir), err))
		}
		return nil, err
	}
	if slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() == ".gitignore" }) {
		w.ignore.load(w.root, dir)
	} else {
		delete(w.ignore.dirs, dir)
	}
	return entries, nil
}

// watchLimit is the error for ENOSPC from inotify_add_watch: it counts the
// directories the project needs watched.
func (w *Watcher) watchLimit(err error) error {
	return &LimitError{
		Op:      "watching " + w.root,
		Sysctl:  MaxUserWatches,
		Current: readLimit(w.procDir, MaxUserWatches),
		Needed:  w.countDirs("", map[fileID]bool{}),
		Err:     err,
	}
}

// countDirs counts dir and the directories below it that need a watch,
// each once however many names it has.
func (w *Watcher) countDirs(dir string, seen map[fileID]bool) int {
	if id, ok := dirID(w.abs(dir)); ok {
		if seen[id] {
			return 0
		}
		seen[id] = true
	}
	n := 1
	entries, _ := w.list(dir)
	for _, e := range entries {
		if child := joinPath(dir, e.Name()); e.IsDir() && w.watchable(child) {
			n += w.countDirs(child, seen)
		}
	}
	return n
}

// forgetTree drops the watches of a directory that went away and of the
// directories below it.
func (w *Watcher) forgetTree(dir string) {
	for _, wd := range w.dirs.dropTree(dir) {
		_ = w.n.remove(wd) // EINVAL when the kernel dropped it already
	}
	w.ignore.forget(dir)
}

// resyncTree walks the whole tree again after the ignore rules changed or
// events were lost: directories that need a watch get one, the others lose
// theirs.
func (w *Watcher) resyncTree() {
	seen := map[string]bool{}
	w.ignore.dirs = map[string][]ignoreRule{}
	if err := w.addTree("", walk{seen: seen}); err != nil {
		w.report(err)
		return
	}
	for dir := range w.dirs.byDir {
		if !seen[dir] && w.dirs.byDir[dir] != nil {
			w.forgetTree(dir)
		}
	}
}
