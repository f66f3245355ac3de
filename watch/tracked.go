package watch

import (
	"io/fs"
	"os"
	"path/filepath"
)

// WalkTracked calls fn for each file and directory below root that git
// would track: what .gitignore files exclude (root's own and those below
// it, and those of an enclosing repository with its .git/info/exclude, as
// watching honours them) is left out, and so is every .git. Entries come
// in lexical order, each directory before what it holds; rel is
// slash-separated and relative to root. An error from fn ends the walk.
func WalkTracked(root string, fn func(rel string, d fs.DirEntry) error) error {
	s := ignoreSet{outer: outerRules(root), dirs: map[string][]ignoreRule{}}
	var walk func(dir string) error
	walk = func(dir string) error {
		s.load(root, dir)
		entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
		if err != nil {
			return err
		}
		for _, d := range entries {
			rel := joinPath(dir, d.Name())
			if s.ignored(rel, d.IsDir()) {
				continue
			}
			if err := fn(rel, d); err != nil {
				return err
			}
			if d.IsDir() {
				if err := walk(rel); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk("")
}
