package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOneEditOneTrigger(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.go", "package main\n")
	w := start(t, dir, Options{Rules: []Rule{goRule, {Name: "docs", Watch: []string{"*.md"}}}, Debounce: burstDebounce}, nil)
	got := forward(w)

	writeFile(t, dir, "main.go", "package main // edited\n")
	expect(t, receive(t, got), []string{"go"}, []string{"main.go"})
	quietAfter(t, got, dir, "sentinel.go")
	noErrors(t, w)
}

func TestBurstOneTrigger(t *testing.T) {
	dir := t.TempDir()
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: burstDebounce}, nil)
	got := forward(w)

	var want []string
	for i := range 100 {
		name := fmt.Sprintf("pkg/f%d.go", i%10)
		writeFile(t, dir, name, fmt.Sprintf("package pkg // %d\n", i))
		if !slices.Contains(want, name) {
			want = append(want, name)
		}
	}
	slices.Sort(want)
	expect(t, receive(t, got), []string{"go"}, want)
	quietAfter(t, got, dir, "sentinel.go")
}

func TestNamesEveryConcernedRule(t *testing.T) {
	dir := t.TempDir()
	rules := []Rule{
		{Name: "build", Watch: []string{"**/*.go", "go.mod"}},
		{Name: "web", Watch: []string{"web/**"}},
		{Name: "test", Watch: []string{"**/*.go"}, Ignore: []string{"web/**"}},
	}
	w := start(t, dir, Options{Rules: rules, Debounce: burstDebounce}, nil)
	got := forward(w)

	writeFile(t, dir, "web/handler.go", "package web\n")
	expect(t, receive(t, got), []string{"build", "web"}, []string{"web/handler.go"})
	writeFile(t, dir, "go.mod", "module x\n")
	expect(t, receive(t, got), []string{"build"}, []string{"go.mod"})
	writeFile(t, dir, "web/index.html", "<html>\n")
	expect(t, receive(t, got), []string{"web"}, []string{"web/index.html"})
}

func TestIgnoredPaths(t *testing.T) {
	dir := t.TempDir()
	mkdirs(t, dir, ".git/hooks", "bin", "gen", "sub/deeper", "node_modules/pkg")
	writeFile(t, dir, ".gitignore", "# generated\ngen/\n*.pb.go\n!keep.pb.go\n/rootonly.go\nnode_modules\n")
	writeFile(t, dir, "sub/.gitignore", "local.go\n")
	rule := Rule{Name: "go", Watch: []string{"**/*.go"}, Ignore: []string{"bin/**", "vendor"}}
	w := start(t, dir, Options{Rules: []Rule{rule}, Debounce: burstDebounce}, nil)
	got := forward(w)

	for _, f := range []string{
		"bin/tool.go",           // rule ignore
		"vendor/lib/lib.go",     // rule ignore, a directory created after the start
		"gen/api.go",            // .gitignore: directory
		"a.pb.go",               // .gitignore: glob
		"keep.pb.go",            // .gitignore: negated, so watched
		"rootonly.go",           // .gitignore: anchored
		"sub/rootonly.go",       // not below the root: watched
		"sub/local.go",          // nested .gitignore
		"sub/deeper/local.go",   // nested .gitignore, deeper
		"local.go",              // the nested rule does not apply above sub/
		".git/hooks/pre.go",     // .git
		"node_modules/pkg/x.go", // .gitignore without a slash
		"README.md",             // no glob matches
	} {
		writeFile(t, dir, f, "package x\n")
	}
	writeFile(t, dir, "sentinel.go", "package x\n")
	trs := untilSentinel(t, got, "sentinel.go")
	want := []string{"keep.pb.go", "local.go", "sentinel.go", "sub/rootonly.go"}
	if files := allFiles(trs); !slices.Equal(files, want) {
		t.Fatalf("triggered by %q, want %q", files, want)
	}
	dirs := w.Dirs()
	for _, d := range []string{".git", ".git/hooks", "bin", "gen", "vendor", "node_modules"} {
		if slices.Contains(dirs, d) {
			t.Errorf("%s is watched; watched: %q", d, dirs)
		}
	}
	for _, d := range []string{"", "sub", "sub/deeper"} {
		if !slices.Contains(dirs, d) {
			t.Errorf("%q is not watched; watched: %q", d, dirs)
		}
	}
	noErrors(t, w)
}

func TestChmodIsNoChange(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.go", "package main\n")
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: burstDebounce}, nil)
	got := forward(w)

	must(t, os.Chmod(filepath.Join(dir, "main.go"), 0o600))
	quietAfter(t, got, dir, "sentinel.go")
}

func TestNewDirectoryIsWatched(t *testing.T) {
	dir := t.TempDir()
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: burstDebounce}, nil)
	got := forward(w)

	// mkdir -p a/b/c && touch a/b/c/x.go: the file is usually there before
	// the watch on a/b/c; the scan of the new directory finds it.
	mkdirs(t, dir, "a/b/c")
	writeFile(t, dir, "a/b/c/x.go", "package c\n")
	trs := untilSentinel(t, got, "a/b/c/x.go")
	if files := allFiles(trs); !slices.Equal(files, []string{"a/b/c/x.go"}) {
		t.Fatalf("triggered by %q, want only a/b/c/x.go", files)
	}
	writeFile(t, dir, "a/b/c/y.go", "package c\n")
	expect(t, receive(t, got), []string{"go"}, []string{"a/b/c/y.go"})
	if dirs := w.Dirs(); !slices.Equal(dirs, []string{"", "a", "a/b", "a/b/c"}) {
		t.Fatalf("watched %q", dirs)
	}
}

// TestDirectoryMovedIn moves a tree with files into the project: no event
// names those files, only the scan of the new directory finds them.
func TestDirectoryMovedIn(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	writeFile(t, elsewhere, "pkg/a.go", "package pkg\n")
	writeFile(t, elsewhere, "pkg/inner/b.go", "package inner\n")
	writeFile(t, elsewhere, "pkg/notes.txt", "not go\n")
	writeFile(t, elsewhere, "pkg/.gitignore", "skip.go\n") // read before the files beside it
	writeFile(t, elsewhere, "pkg/inner/skip.go", "package inner\n")
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: burstDebounce}, nil)
	got := forward(w)

	must(t, os.Rename(filepath.Join(elsewhere, "pkg"), filepath.Join(dir, "pkg")))
	expect(t, receive(t, got), []string{"go"}, []string{"pkg/a.go", "pkg/inner/b.go"})
	writeFile(t, dir, "pkg/inner/c.go", "package inner\n")
	expect(t, receive(t, got), []string{"go"}, []string{"pkg/inner/c.go"})
}

func TestDirectoryMovedWithinAndAway(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	writeFile(t, dir, "old/x.go", "package old\n")
	writeFile(t, dir, "old/deep/y.go", "package deep\n")
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: burstDebounce}, nil)
	got := forward(w)

	must(t, os.Rename(filepath.Join(dir, "old"), filepath.Join(dir, "new")))
	expect(t, receive(t, got), []string{"go"}, []string{"new/deep/y.go", "new/x.go", "old"})
	writeFile(t, dir, "new/deep/z.go", "package deep\n")
	expect(t, receive(t, got), []string{"go"}, []string{"new/deep/z.go"})
	if dirs := w.Dirs(); !slices.Equal(dirs, []string{"", "new", "new/deep"}) {
		t.Fatalf("watched %q, want the new names only", dirs)
	}

	// Moved out of the project, the tree is no longer watched.
	must(t, os.Rename(filepath.Join(dir, "new"), filepath.Join(elsewhere, "gone")))
	expect(t, receive(t, got), []string{"go"}, []string{"new"})
	writeFile(t, elsewhere, "gone/deep/outside.go", "package deep\n")
	quietAfter(t, got, dir, "sentinel.go")
	if dirs := w.Dirs(); !slices.Equal(dirs, []string{""}) {
		t.Fatalf("watched %q after the move away", dirs)
	}
}

// TestDirectoryRenamedOverAnother renames a directory over an empty one we
// watch: the name now holds another directory, which must get the watch.
func TestDirectoryRenamedOverAnother(t *testing.T) {
	dir := t.TempDir()
	mkdirs(t, dir, "target")
	writeFile(t, dir, "staging/x.go", "package x\n")
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: burstDebounce}, nil)
	got := forward(w)

	// rename(2) itself: os.Rename refuses to replace a directory.
	must(t, syscall.Rename(filepath.Join(dir, "staging"), filepath.Join(dir, "target")))
	expect(t, receive(t, got), []string{"go"}, []string{"staging", "target/x.go"})
	writeFile(t, dir, "target/y.go", "package x\n")
	expect(t, receive(t, got), []string{"go"}, []string{"target/y.go"})
	if dirs := w.Dirs(); !slices.Equal(dirs, []string{"", "target"}) {
		t.Fatalf("watched %q", dirs)
	}
	noErrors(t, w)
}

func TestRemovedDirectoryDropsItsWatches(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "d/e/x.go", "package e\n")
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: burstDebounce}, nil)
	got := forward(w)
	if dirs := w.Dirs(); !slices.Equal(dirs, []string{"", "d", "d/e"}) {
		t.Fatalf("watched %q", dirs)
	}

	must(t, os.RemoveAll(filepath.Join(dir, "d")))
	expect(t, receive(t, got), []string{"go"}, []string{"d/e/x.go"})
	quietAfter(t, got, dir, "sentinel.go")
	if dirs := w.Dirs(); !slices.Equal(dirs, []string{""}) {
		t.Fatalf("watched %q after rm -r", dirs)
	}
	noErrors(t, w)
}

// TestEditorSaves saves main.go the ways editors do; each must give exactly
// one Trigger naming main.go and none of the editor's temporary names, both
// when only *.go is watched and when everything is.
func TestEditorSaves(t *testing.T) {
	path := func(dir, name string) string { return filepath.Join(dir, name) }
	editors := map[string]func(t *testing.T, dir string){
		// vim with backupcopy=no: probe the directory with 4913, move the
		// original to the backup name, write anew, drop the backup.
		"vim": func(t *testing.T, dir string) {
			writeFile(t, dir, ".main.go.swp", "swap, updated")
			writeFile(t, dir, "4913", "")
			must(t, os.Remove(path(dir, "4913")))
			must(t, os.Rename(path(dir, "main.go"), path(dir, "main.go~")))
			writeFile(t, dir, "main.go", "package main // vim\n")
			must(t, os.Remove(path(dir, "main.go~")))
		},
		// JetBrains "safe write".
		"jetbrains": func(t *testing.T, dir string) {
			writeFile(t, dir, "main.go.___jb_tmp___", "package main // idea\n")
			must(t, os.Rename(path(dir, "main.go"), path(dir, "main.go.___jb_old___")))
			must(t, os.Rename(path(dir, "main.go.___jb_tmp___"), path(dir, "main.go")))
			must(t, os.Remove(path(dir, "main.go.___jb_old___")))
		},
		// VS Code writes in place: truncate, write.
		"vscode": func(t *testing.T, dir string) {
			f, err := os.OpenFile(path(dir, "main.go"), os.O_WRONLY|os.O_TRUNC, 0)
			must(t, err)
			_, err = f.WriteString("package main // code\n")
			must(t, err)
			must(t, f.Close())
		},
		// An atomic write through a temporary file renamed over the target
		// (VS Code's and many tools' atomic save).
		"rename-over": func(t *testing.T, dir string) {
			writeFile(t, dir, ".main.go.tmp.1234", "package main // atomic\n")
			must(t, os.Rename(path(dir, ".main.go.tmp.1234"), path(dir, "main.go")))
		},
		"delete-create": func(t *testing.T, dir string) {
			must(t, os.Remove(path(dir, "main.go")))
			writeFile(t, dir, "main.go", "package main // recreated\n")
		},
	}
	rules := map[string]Rule{
		"go-only":    goRule,
		"everything": {Name: "go", Watch: []string{"**"}, Ignore: []string{"*.swp"}},
	}
	for editor, save := range editors {
		for ruleName, rule := range rules {
			t.Run(editor+"/"+ruleName, func(t *testing.T) {
				dir := t.TempDir()
				writeFile(t, dir, "main.go", "package main\n")
				w := start(t, dir, Options{Rules: []Rule{rule}, Debounce: burstDebounce}, nil)
				got := forward(w)

				save(t, dir)
				expect(t, receive(t, got), []string{"go"}, []string{"main.go"})
				quietAfter(t, got, dir, "sentinel.go")
				noErrors(t, w)
			})
		}
	}
}

// TestBusyConsumerGetsOneMergedTrigger ends two bursts while nobody
// receives: they become one Trigger.
func TestBusyConsumerGetsOneMergedTrigger(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	ended := make(chan []string, 100)
	w := start(t, dir, Options{Rules: []Rule{goRule, {Name: "md", Watch: []string{"*.md"}}}, Debounce: 20 * time.Millisecond}, &plumbing{flushed: ended})

	moveIn(t, elsewhere, dir, "a.go") // one event each: no straggler can make a burst of its own
	flushes(t, ended, "a.go")
	moveIn(t, elsewhere, dir, "b.md")
	if f := flushes(t, ended, "b.md"); slices.ContainsFunc(f, func(files []string) bool { return slices.Contains(files, "a.go") }) {
		t.Fatalf("a.go came back in a later burst: %q", f)
	}
	tr := receive(t, w.Triggers())
	expect(t, tr, []string{"go", "md"}, []string{"a.go", "b.md"})

	// Received, the pending Trigger is gone: the next holds only what follows.
	moveIn(t, elsewhere, dir, "c.go")
	expect(t, receive(t, w.Triggers()), []string{"go"}, []string{"c.go"})
}

// TestDebounceZeroFiresPerEvent: with no debounce every change ends a burst
// at once. Files renamed into the project make one event each.
func TestDebounceZeroFiresPerEvent(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	moveIn := func(name string) { moveIn(t, elsewhere, dir, name) }
	ended := make(chan []string, 1000)
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: 0}, &plumbing{flushed: ended})

	for _, f := range []string{"a.go", "b.go", "c.go"} {
		moveIn(f)
	}
	bursts := flushes(t, ended, "c.go")
	if want := [][]string{{"a.go"}, {"b.go"}, {"c.go"}}; !slices.EqualFunc(bursts, want, slices.Equal) {
		t.Fatalf("bursts %q, want one per change: %q", bursts, want)
	}
	expect(t, receive(t, w.Triggers()), []string{"go"}, []string{"a.go", "b.go", "c.go"})

	// A consumer that waits gets each change at once.
	got := forward(w)
	moveIn("d.go")
	expect(t, receive(t, got), []string{"go"}, []string{"d.go"})
	moveIn("e.go")
	expect(t, receive(t, got), []string{"go"}, []string{"e.go"})
}

func TestGitignoreChangeReloadsRules(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, ".gitignore", "gen/\n")
	writeFile(t, dir, "gen/old.go", "package gen\n")
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: burstDebounce}, nil)
	got := forward(w)
	if slices.Contains(w.Dirs(), "gen") {
		t.Fatal("gen/ is watched while ignored")
	}

	writeFile(t, dir, ".gitignore", "# nothing ignored\n")
	writeFile(t, dir, "sentinel1.go", "package x\n")
	untilSentinel(t, got, "sentinel1.go") // the burst that ends with it re-read the tree
	if !slices.Contains(w.Dirs(), "gen") {
		t.Fatalf("gen/ not watched once no longer ignored: %q", w.Dirs())
	}
	writeFile(t, dir, "gen/new.go", "package gen\n")
	expect(t, receive(t, got), []string{"go"}, []string{"gen/new.go"})

	writeFile(t, dir, ".gitignore", "gen/\n")
	writeFile(t, dir, "sentinel2.go", "package x\n")
	untilSentinel(t, got, "sentinel2.go")
	if slices.Contains(w.Dirs(), "gen") {
		t.Fatalf("gen/ still watched once ignored again: %q", w.Dirs())
	}
	writeFile(t, dir, "gen/newer.go", "package gen\n")
	quietAfter(t, got, dir, "sentinel3.go")
}

func TestAlwaysPaths(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, ".gitignore", "nook.lock\nconf/\n")
	writeFile(t, dir, "nook.toml", "image = \"x\"\n")
	mkdirs(t, dir, "conf")
	w := start(t, dir, Options{Rules: []Rule{goRule}, Always: []string{"nook.toml", "./nook.lock", "conf/extra.toml"}, Debounce: burstDebounce}, nil)
	got := forward(w)

	writeFile(t, dir, "nook.toml", "image = \"y\"\n")
	expect(t, receive(t, got), []string{""}, []string{"nook.toml"})
	writeFile(t, dir, "nook.lock", "locked\n") // gitignored, but always watched
	expect(t, receive(t, got), []string{""}, []string{"nook.lock"})
	writeFile(t, dir, "conf/extra.toml", "x\n") // in a gitignored directory
	expect(t, receive(t, got), []string{""}, []string{"conf/extra.toml"})
	writeFile(t, dir, "conf/other.go", "package conf\n") // that directory stays ignored otherwise
	quietAfter(t, got, dir, "sentinel.go")

	if _, err := New(Options{Root: dir, Always: []string{"../outside.toml"}}); err == nil {
		t.Error("an Always path outside the project was accepted")
	}
}

func TestSymlinksAreNotFollowed(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	mkdirs(t, outside, "sub")
	must(t, os.Symlink(outside, filepath.Join(dir, "link")))
	w := start(t, dir, Options{Rules: []Rule{{Name: "go", Watch: []string{"**/*.go"}}}, Debounce: burstDebounce}, nil)
	got := forward(w)
	if dirs := w.Dirs(); !slices.Equal(dirs, []string{""}) {
		t.Fatalf("watched %q: a symbolic link was followed", dirs)
	}

	writeFile(t, outside, "x.go", "package x\n")
	writeFile(t, outside, "sub/y.go", "package sub\n")
	must(t, os.Symlink(filepath.Join(outside, "sub"), filepath.Join(dir, "late-link")))
	writeFile(t, outside, "sub/z.go", "package sub\n")
	quietAfter(t, got, dir, "sentinel.go")
	if dirs := w.Dirs(); !slices.Equal(dirs, []string{""}) {
		t.Fatalf("watched %q: a symbolic link was followed", dirs)
	}
}

func TestUnreadableDirectoryIsReported(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any directory: run as an unprivileged user")
	}
	dir := t.TempDir()
	mkdirs(t, dir, "locked")
	must(t, os.Chmod(filepath.Join(dir, "locked"), 0))
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "locked"), 0o755) })
	w := start(t, dir, Options{Rules: []Rule{goRule}, Debounce: burstDebounce}, nil)

	err := receiveError(t, w)
	if want := filepath.Join(dir, "locked"); !strings.Contains(err.Error(), want) || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("error %q does not name %s and the cause", err, want)
	}
	got := forward(w)
	quietAfter(t, got, dir, "sentinel.go") // the rest is watched
}

func TestCloseEndsChannels(t *testing.T) {
	dir := t.TempDir()
	w := start(t, dir, Options{Rules: []Rule{goRule}}, nil)
	must(t, w.Close())
	if _, ok := <-w.Triggers(); ok {
		t.Error("Triggers still open after Close")
	}
	if _, ok := <-w.Errors(); ok {
		t.Error("Errors still open after Close")
	}
	if w.Dirs() != nil {
		t.Error("Dirs after Close")
	}
	must(t, w.Close())
}

func TestBadOptions(t *testing.T) {
	dir := t.TempDir()
	for name, opt := range map[string]Options{
		"bad glob":         {Root: dir, Rules: []Rule{{Name: "r", Watch: []string{"[oops"}}}},
		"negative":         {Root: dir, Debounce: -1},
		"missing root":     {Root: filepath.Join(dir, "nope")},
		"outside ignore":   {Root: dir, Rules: []Rule{{Name: "r", Ignore: []string{"../x"}}}},
		"always is a root": {Root: dir, Always: []string{"."}},
	} {
		if w, err := New(opt); err == nil {
			w.Close()
			t.Errorf("%s: New succeeded", name)
		}
	}
}
