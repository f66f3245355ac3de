package watch

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// patience bounds every wait for an event; it is never a synchronisation
// delay, only the point where a test gives up.
const patience = 10 * time.Second

// burstDebounce is the quiet period of tests that count triggers: long
// enough that a loaded machine does not split a burst written in a loop.
const burstDebounce = 200 * time.Millisecond

// goRule is the rule of most tests.
var goRule = Rule{Name: "go", Watch: []string{"**/*.go"}}

func mkdirs(t testing.TB, root string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t testing.TB, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// moveIn writes a file elsewhere and renames it into dir: a change that
// makes exactly one event.
func moveIn(t testing.TB, elsewhere, dir, name string) {
	t.Helper()
	writeFile(t, elsewhere, name, "new\n")
	must(t, os.Rename(filepath.Join(elsewhere, name), filepath.Join(dir, name)))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// start watches dir with opt; pl, when given, replaces parts of the system.
func start(t testing.TB, dir string, opt Options, pl *plumbing) *Watcher {
	t.Helper()
	opt.Root = dir
	p := plumbing{newNotifier: newNotifier, procDir: procInotify}
	if pl != nil {
		if pl.newNotifier != nil {
			p.newNotifier = pl.newNotifier
		}
		if pl.procDir != "" {
			p.procDir = pl.procDir
		}
		p.flushed = pl.flushed
	}
	w, err := newWatcher(opt, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// forward is a consumer that is never busy: it receives every Trigger as
// soon as it is ready and queues it for the test.
func forward(w *Watcher) <-chan Trigger {
	ch := make(chan Trigger, 1000)
	go func() {
		defer close(ch)
		for tr := range w.Triggers() {
			ch <- tr
		}
	}()
	return ch
}

// receive waits for the next Trigger.
func receive(t testing.TB, ch <-chan Trigger) Trigger {
	t.Helper()
	select {
	case tr, ok := <-ch:
		if !ok {
			t.Fatal("Triggers closed")
		}
		return tr
	case <-time.After(patience):
		t.Fatalf("no Trigger within %v", patience)
	}
	panic("unreachable")
}

// untilSentinel receives Triggers until one names the sentinel file and
// returns them all. inotify queues events in order, so every change made
// before the sentinel has been handled by then.
func untilSentinel(t testing.TB, ch <-chan Trigger, sentinel string) []Trigger {
	t.Helper()
	var got []Trigger
	for {
		tr := receive(t, ch)
		got = append(got, tr)
		if slices.Contains(tr.Files, sentinel) {
			return got
		}
	}
}

// allFiles is the union of the triggers' files, sorted.
func allFiles(trs []Trigger) []string {
	var files []string
	for _, tr := range trs {
		for _, f := range tr.Files {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	slices.Sort(files)
	return files
}

// expect checks a Trigger's names and files.
func expect(t testing.TB, tr Trigger, names, files []string) {
	t.Helper()
	if !slices.Equal(tr.Names, names) || !slices.Equal(tr.Files, files) {
		t.Fatalf("got Trigger{Names: %q, Files: %q}, want Trigger{Names: %q, Files: %q}", tr.Names, tr.Files, names, files)
	}
}

// quietAfter writes a sentinel file and checks that the next Trigger names
// it alone: nothing that happened before is still to come.
func quietAfter(t testing.TB, ch <-chan Trigger, dir, sentinel string) {
	t.Helper()
	writeFile(t, dir, sentinel, "package sentinel\n")
	expect(t, receive(t, ch), []string{"go"}, []string{sentinel})
}

// queuedErrors returns the errors waiting for the consumer.
func queuedErrors(w *Watcher) []error {
	var errs []error
	w.inLoop(func() { errs = slices.Clone(w.errs) })
	return errs
}

func noErrors(t testing.TB, w *Watcher) {
	t.Helper()
	if errs := queuedErrors(w); len(errs) > 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
}

// receiveError waits for the next error.
func receiveError(t testing.TB, w *Watcher) error {
	t.Helper()
	select {
	case err := <-w.Errors():
		return err
	case <-time.After(patience):
		t.Fatalf("no error within %v", patience)
	}
	panic("unreachable")
}

// flushes waits for ended bursts until one holds file, and returns them.
func flushes(t testing.TB, ch <-chan []string, file string) [][]string {
	t.Helper()
	var got [][]string
	for {
		select {
		case files := <-ch:
			got = append(got, files)
			if slices.Contains(files, file) {
				return got
			}
		case <-time.After(patience):
			t.Fatalf("no burst with %s within %v (got %q)", file, patience, got)
		}
	}
}

// kernel wraps the real notifier to provoke what the kernel rarely does:
// watches running out after a number of adds, and injected events.
type kernel struct {
	notifier
	addsLeft atomic.Int64 // adds that still succeed; negative: unlimited
	inject   chan []change
	out      chan []change
	stop     chan struct{}
	once     sync.Once
}

func newKernel(addsLeft int64) (*kernel, error) {
	n, err := newNotifier()
	if err != nil {
		return nil, err
	}
	k := &kernel{notifier: n, inject: make(chan []change), out: make(chan []change), stop: make(chan struct{})}
	k.addsLeft.Store(addsLeft)
	go func() {
		for {
			var batch []change
			select {
			case batch = <-n.changes():
			case batch = <-k.inject:
			case <-k.stop:
				return
			}
			select {
			case k.out <- batch:
			case <-k.stop:
				return
			}
		}
	}()
	return k, nil
}

func (k *kernel) add(dir string) (int, error) {
	if k.addsLeft.Load() == 0 {
		return -1, syscall.ENOSPC
	}
	k.addsLeft.Add(-1)
	return k.notifier.add(dir)
}

func (k *kernel) changes() <-chan []change { return k.out }

func (k *kernel) close() error {
	k.once.Do(func() { close(k.stop) })
	return k.notifier.close()
}

// fakeProc is a /proc/sys/fs/inotify with chosen limits.
func fakeProc(t testing.TB, watches, instances, queued int) string {
	dir := t.TempDir()
	for name, v := range map[string]int{"max_user_watches": watches, "max_user_instances": instances, "max_queued_events": queued} {
		writeFile(t, dir, name, strconv.Itoa(v)+"\n")
	}
	return dir
}

// isLimit unwraps a *LimitError.
func isLimit(t testing.TB, err error) *LimitError {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("got %v (%T), want a *LimitError", err, err)
	}
	return le
}
