package env

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Error is one problem in nook.toml, its env_file or the user config, at a
// position in that file.
type Error struct {
	File string // the file as it was named to Load (or the env_file's path beside it)
	Line int    // 1-based; 0 when the problem has no position (e.g. an unreadable file)
	Col  int    // 1-based byte column
	Key  string // dotted key path, e.g. roles.server.ports; "" when the problem is not about a key
	Msg  string // what is wrong and what is expected
	Fix  string // how to fix it, when known (see Hint)
}

// Error formats the problem as FILE:LINE:COL: KEY: MSG.
func (e *Error) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
	}
	if e.Key == "" {
		return where + ": " + e.Msg
	}
	return where + ": " + e.Key + ": " + e.Msg
}

// Hint says how to fix the problem, or "" when there is nothing to add.
func (e *Error) Hint() string { return e.Fix }

// NotFoundError is returned by Find when no directory from Dir upwards holds
// a nook.toml.
type NotFoundError struct {
	Dir string
}

// Error names the directory the search started from.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no %s found in %s or any parent directory", FileName, e.Dir)
}

// Hint tells the user how to make a project file.
func (e *NotFoundError) Hint() string { return "run `nook init` to create one" }

// errorList collects the problems found in one or more files.
type errorList struct {
	first string // the file whose problems come first
	errs  []*Error
}

func (l *errorList) add(e *Error) { l.errs = append(l.errs, e) }

// err returns nil for an empty list, otherwise every problem, sorted by
// file (the first file reported first) and position, joined.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	rank := map[string]int{l.first: 0}
	for _, e := range l.errs {
		if _, ok := rank[e.File]; !ok {
			rank[e.File] = len(rank)
		}
	}
	sorted := slices.Clone(l.errs)
	slices.SortStableFunc(sorted, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(rank[a.File], rank[b.File]),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
		)
	})
	errs := make([]error, len(sorted))
	for i, e := range sorted {
		errs[i] = e
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
