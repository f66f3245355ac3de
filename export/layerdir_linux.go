package export

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// overlayOpaque marks an opaque directory in a layer of the store
// (overlayfs with the userxattr option). Layers nook mounts never hold
// redirects or metacopy files: userxattr mounts refuse both.
const overlayOpaque = "user.overlay.opaque"

// writeLayerDir writes the layer directory dir of the store as an OCI
// layer tar: overlay whiteouts (0/0 character devices) become ".wh."
// files and opaque directories get a ".wh..wh..opq" entry; owners are
// the ids stat shows, which in the user namespace nook reads layers in are
// those a role sees; user.* extended attributes (but overlayfs's own) and
// file capabilities are kept.
func writeLayerDir(w io.Writer, dir string, clamp time.Time) error {
	t := newTarWriter(w, clamp)
	if err := walkLayerDir(t, dir, ""); err != nil {
		return err
	}
	return t.close()
}

func walkLayerDir(t *tarWriter, root, rel string) error {
	entries, err := os.ReadDir(filepath.Join(root, rel))
	if err != nil {
		return err
	}
	for _, de := range entries {
		name := filepath.ToSlash(filepath.Join(rel, de.Name()))
		host := filepath.Join(root, name)
		fi, err := os.Lstat(host)
		if err != nil {
			return err
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		if st == nil {
			return fmt.Errorf("stat %s: no owner", host)
		}
		if fi.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0 {
			if err := t.whiteout(name, fi.ModTime()); err != nil {
				return err
			}
			continue
		}
		var xattrs map[string]string
		if fi.Mode()&fs.ModeSymlink == 0 {
			if xattrs, err = keptXattrs(host); err != nil {
				return err
			}
		}
		opaque := fi.IsDir() && xattrs[overlayOpaque] == "y"
		delete(xattrs, overlayOpaque)
		if err := t.entry(name, host, fi, int(st.Uid), int(st.Gid), xattrs); err != nil {
			return fmt.Errorf("%s: %w", host, err)
		}
		if opaque {
			if err := t.opaque(name, fi.ModTime()); err != nil {
				return err
			}
		}
		if fi.IsDir() {
			if err := walkLayerDir(t, root, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// keptXattrs reads the extended attributes of path that a layer carries:
// user.* ones (user.overlay.opaque included, for the caller to turn into
// an OCI marker; other user.overlay.* ones are overlayfs's own) and
// security.capability.
func keptXattrs(path string) (map[string]string, error) {
	size, err := unix.Llistxattr(path, nil)
	if err != nil || size == 0 {
		if errors.Is(err, unix.ENOTSUP) {
			err = nil
		}
		return nil, err
	}
	buf := make([]byte, size)
	if size, err = unix.Llistxattr(path, buf); err != nil {
		return nil, fmt.Errorf("listing xattrs of %s: %w", path, err)
	}
	names := strings.Split(strings.TrimSuffix(string(buf[:size]), "\x00"), "\x00")
	slices.Sort(names)
	var out map[string]string
	for _, n := range names {
		keep := n == overlayOpaque || n == "security.capability" ||
			strings.HasPrefix(n, "user.") && !strings.HasPrefix(n, "user.overlay.")
		if !keep {
			continue
		}
		v, err := getXattr(path, n)
		if errors.Is(err, unix.ENODATA) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading xattr %s of %s: %w", n, path, err)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[n] = string(v)
	}
	return out, nil
}

func getXattr(path, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(path, name, buf)
		if err == unix.ERANGE {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if err != nil {
			return nil, err
		}
		return bytes.Clone(buf[:n]), nil
	}
}
