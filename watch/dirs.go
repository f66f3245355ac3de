package watch

import "path"

// dirWatches maps the watched directories to their watch ids and back, and
// knows each directory's watched subdirectories so that a subtree can be
// dropped without scanning them all.
type dirWatches struct {
	byWd  map[int]string
	byDir map[string]*dirWatch
}

type dirWatch struct {
	wd   int
	kids map[string]struct{} // project-relative paths of watched subdirectories
}

func newDirWatches() dirWatches {
	return dirWatches{byWd: map[int]string{}, byDir: map[string]*dirWatch{}}
}

// add records the watch of a directory; its parent, if watched, learns of it.
func (d *dirWatches) add(dir string, wd int) {
	d.byWd[wd] = dir
	d.byDir[dir] = &dirWatch{wd: wd, kids: map[string]struct{}{}}
	if dir != "" {
		if p := d.byDir[parentDir(dir)]; p != nil {
			p.kids[dir] = struct{}{}
		}
	}
}

// dropTree forgets dir and the directories below it and returns their watch
// ids.
func (d *dirWatches) dropTree(dir string) []int {
	dw := d.byDir[dir]
	if dw == nil {
		return nil
	}
	wds := []int{dw.wd}
	for kid := range dw.kids {
		wds = append(wds, d.dropTree(kid)...)
	}
	delete(d.byDir, dir)
	if d.byWd[dw.wd] == dir {
		delete(d.byWd, dw.wd)
	}
	if dir != "" {
		if p := d.byDir[parentDir(dir)]; p != nil {
			delete(p.kids, dir)
		}
	}
	return wds
}

// parentDir is the project-relative parent of a project-relative directory.
func parentDir(dir string) string {
	p := path.Dir(dir)
	if p == "." {
		return ""
	}
	return p
}
