package watch

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

// TestWatchLimitAtStart runs out of watches while watching the tree: New
// fails with the sysctl, its value and the number of directories needed.
func TestWatchLimitAtStart(t *testing.T) {
	dir := t.TempDir()
	mkdirs(t, dir, "a/b", "c", "d", ".git/objects", "ignored")
	writeFile(t, dir, ".gitignore", "ignored/\n")
	k, err := newKernel(2)
	must(t, err)
	proc := fakeProc(t, 8192, 128, 16384)

	w, err := newWatcher(Options{Root: dir, Rules: []Rule{goRule}}, plumbing{newNotifier: func() (notifier, error) { return k, nil }, procDir: proc})
	if err == nil {
		w.Close()
		t.Fatal("New succeeded without watches left")
	}
	le := isLimit(t, err)
	if le.Sysctl != MaxUserWatches || le.Current != 8192 || le.Needed != 5 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("got %+v, want max_user_watches = 8192, 5 directories (root, a, a/b, c, d), ENOSPC", le)
	}
	msg, hint := err.Error(), le.Hint()
	for _, want := range []string{"watching " + dir, "fs.inotify.max_user_watches = 8192", "5 directories"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if want := "sudo sysctl fs.inotify.max_user_watches=524288"; !strings.Contains(hint, want) {
		t.Errorf("hint %q does not say %q", hint, want)
	}
}

// TestWatchLimitOnNewDirectory runs out of watches after the start: the
// watcher goes on and reports the limit on Errors.
func TestWatchLimitOnNewDirectory(t *testing.T) {
	dir := t.TempDir()
	k, err := newKernel(-1)
	must(t, err)
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: burstDebounce}, &plumbing{
		newNotifier: func() (notifier, error) { return k, nil },
		procDir:     fakeProc(t, 1000000, 128, 16384),
	})
	got := forward(w)
	k.addsLeft.Store(0)

	mkdirs(t, dir, "new")
	le := isLimit(t, receiveError(t, w))
	if le.Sysctl != MaxUserWatches || le.Current != 1000000 || le.Needed != 2 {
		t.Fatalf("got %+v, want max_user_watches = 1000000 and 2 directories", le)
	}
	if want := "fs.inotify.max_user_watches=1048576"; !strings.Contains(le.Hint(), want) {
		t.Errorf("hint %q does not propose %q", le.Hint(), want)
	}
	quietAfter(t, got, dir, "sentinel.go") // still watching
}

func TestInstanceLimit(t *testing.T) {
	dir := t.TempDir()
	_, err := newWatcher(Options{Root: dir, Rules: []Rule{goRule}}, plumbing{
		newNotifier: func() (notifier, error) { return nil, syscall.EMFILE },
		procDir:     fakeProc(t, 8192, 128, 16384),
	})
	le := isLimit(t, err)
	if le.Sysctl != MaxUserInstances || le.Current != 128 || !errors.Is(err, syscall.EMFILE) {
		t.Fatalf("got %+v", le)
	}
	if !strings.Contains(err.Error(), "fs.inotify.max_user_instances = 128") {
		t.Errorf("error %q does not name the limit", err)
	}
	if want := "sudo sysctl fs.inotify.max_user_instances=512"; !strings.Contains(le.Hint(), want) {
		t.Errorf("hint %q does not say %q", le.Hint(), want)
	}
}

// TestLostEventsTriggerEverything: when the kernel's queue overflows,
// nobody knows what changed, so every rule (and the Always paths) triggers.
func TestLostEventsTriggerEverything(t *testing.T) {
	dir := t.TempDir()
	k, err := newKernel(-1)
	must(t, err)
	rules := []Rule{goRule, {Name: "md", Watch: []string{"*.md"}}}
	w := start(t, dir, Options{Rules: rules, Always: []string{"nook.toml"}, Debounce: burstDebounce}, &plumbing{
		newNotifier: func() (notifier, error) { return k, nil },
		procDir:     fakeProc(t, 8192, 128, 16384),
	})
	k.inject <- []change{{wd: -1, op: opOverflow}}

	expect(t, receive(t, w.Triggers()), []string{"", "go", "md"}, nil)
	le := isLimit(t, receiveError(t, w))
	if le.Sysctl != MaxQueuedEvents || le.Current != 16384 || !strings.Contains(le.Hint(), "fs.inotify.max_queued_events=65536") {
		t.Fatalf("got %+v, hint %q", le, le.Hint())
	}
}

func TestSuggestedLimits(t *testing.T) {
	for _, tt := range []struct {
		e    LimitError
		want int
	}{
		{LimitError{Sysctl: MaxUserWatches, Current: 8192, Needed: 100}, 524288},
		{LimitError{Sysctl: MaxUserWatches, Current: 600000, Needed: 5}, 655360},
		{LimitError{Sysctl: MaxUserWatches, Current: 0, Needed: 900000}, 917504},
		{LimitError{Sysctl: MaxUserInstances, Current: 128}, 512},
		{LimitError{Sysctl: MaxUserInstances, Current: 1024}, 2048},
		{LimitError{Sysctl: MaxQueuedEvents, Current: 16384}, 65536},
	} {
		if got := tt.e.Suggested(); got != tt.want {
			t.Errorf("%s with %d in use, %d needed: suggested %d, want %d", tt.e.Sysctl, tt.e.Current, tt.e.Needed, got, tt.want)
		}
	}
}

// TestReadLimit reads this machine's limits, as the messages do.
func TestReadLimit(t *testing.T) {
	for _, sysctl := range []string{MaxUserWatches, MaxUserInstances, MaxQueuedEvents} {
		if n := readLimit(procInotify, sysctl); n <= 0 {
			t.Errorf("readLimit(%s) = %d", sysctl, n)
		}
	}
	if n := readLimit(t.TempDir(), MaxUserWatches); n != 0 {
		t.Errorf("readLimit of a missing file = %d, want 0", n)
	}
	e := &LimitError{Op: "watching /p", Sysctl: MaxUserWatches, Err: syscall.ENOSPC}
	if !strings.Contains(e.Error(), "max_user_watches = unknown") || e.Suggested() != 524288 {
		t.Errorf("unreadable limit: %q, suggested %d", e.Error(), e.Suggested())
	}
}
