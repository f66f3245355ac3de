package export

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nookenv/nook/watch"
)

// writeProjectLayer writes the top layer: the project's files as git would
// track them (.gitignore honoured, .git left out) below workdir, owned by
// root as a role sees them (they are yours, and you are root inside under
// either id map). workdir is made opaque, so that what the image holds
// there is hidden as the project's bind mount hides it under nook.
func writeProjectLayer(w io.Writer, projectDir, workdir string, clamp time.Time) error {
	t := newTarWriter(w, clamp)
	top := strings.Trim(workdir, "/")
	if top == "" {
		return errors.New(`the project cannot be exported at workdir "/": it would hide the whole image (leave it out with --no-project)`)
	}
	parts := strings.Split(top, "/")
	for i := range parts {
		if err := t.dir(strings.Join(parts[:i+1], "/")); err != nil {
			return err
		}
	}
	if err := t.opaque(top, clamp); err != nil {
		return err
	}
	err := watch.WalkTracked(projectDir, func(rel string, _ fs.DirEntry) error {
		host := filepath.Join(projectDir, filepath.FromSlash(rel))
		fi, err := os.Lstat(host)
		if err != nil {
			return err
		}
		return t.entry(top+"/"+rel, host, fi, 0, 0, nil)
	})
	if err != nil {
		return err
	}
	return t.close()
}
