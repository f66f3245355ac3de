// Package watch turns file-system activity in a project directory into
// debounced triggers for `nook watch`: one Trigger per burst of changes,
// naming the rules (roles) whose globs the changed files match.
//
// A Watcher watches every directory under the project root with inotify,
// except `.git/`, the directories `.gitignore` files exclude (nested ones for
// their own subtree, as git reads them) and those no rule can concern. It
// adds directories created later, scanning each new one for the files that
// were written before its watch existed, drops the watches of directories
// that go away, and re-reads the ignore rules when a `.gitignore` changes.
// Symbolic links are never followed.
//
// Editors that save by writing a temporary file and renaming it over the
// target, by writing in place, or by deleting and re-creating, give one
// Trigger naming the target: a file that appears and disappears within one
// burst (vim's `4913` and `x~`, JetBrains' `___jb_tmp___`, `.x.tmp.1234`) is
// left out, and a chmod alone is no change.
//
// A consumer that is busy never makes triggers pile up: while it has not
// received the pending Trigger, later bursts merge into it, so a run in
// progress queues at most one more run.
//
// Hitting an inotify limit gives a *LimitError whose Hint names the sysctl
// that raises it.
package watch
