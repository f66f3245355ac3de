package build

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxLinks bounds the symbolic links followed while resolving one path, as
// the kernel's ELOOP limit does.
const maxLinks = 40

// opaqueXattr marks an opaque directory in a layer (overlayfs with the
// userxattr option, as nook mounts it).
const opaqueXattr = "user.overlay.opaque"

// layerFS reads an image's merged root filesystem straight from its layer
// directories, bottom first, without mounting them: an entry is the topmost
// layer's unless a whiteout, an opaque directory or a non-directory in a
// layer above hides it.
type layerFS []string

// lstat finds the entry at the relative path p, whose parent components
// are directories in the merged view, and returns its host path.
func (l layerFS) lstat(p string) (string, fs.FileInfo, error) {
	elems := strings.Split(p, "/")
layersLoop:
	for i := len(l) - 1; i >= 0; i-- {
		opaque := false
		for j := 1; j < len(elems); j++ {
			dir := filepath.Join(l[i], filepath.FromSlash(path.Join(elems[:j]...)))
			fi, err := os.Lstat(dir)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				continue layersLoop // this layer holds nothing at p
			case err != nil:
				return "", nil, err
			case !fi.IsDir():
				return "", nil, fs.ErrNotExist // a whiteout or a file hides what lies below
			case isOpaque(dir):
				opaque = true
			}
		}
		host := filepath.Join(l[i], filepath.FromSlash(p))
		fi, err := os.Lstat(host)
		switch {
		case err == nil && isWhiteout(fi):
			return "", nil, fs.ErrNotExist
		case err == nil:
			return host, fi, nil
		case !errors.Is(err, fs.ErrNotExist):
			return "", nil, err
		case opaque:
			return "", nil, fs.ErrNotExist
		}
	}
	return "", nil, fs.ErrNotExist
}

// resolve follows name through the merged view, symbolic links included
// (absolute ones against the image's root), and returns the host path and
// info of what it names.
func (l layerFS) resolve(name string) (string, fs.FileInfo, error) {
	todo := splitPath(name)
	cur, host := "", ""
	var info fs.FileInfo
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if cur = path.Dir(cur); cur == "." {
				cur = ""
			}
			continue
		}
		next := path.Join(cur, c)
		h, fi, err := l.lstat(next)
		if err != nil {
			return "", nil, fmt.Errorf("resolving %s in the image: %w", name, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if links++; links > maxLinks {
				return "", nil, fmt.Errorf("resolving %s in the image: %w", name, syscall.ELOOP)
			}
			target, err := os.Readlink(h)
			if err != nil {
				return "", nil, fmt.Errorf("resolving %s in the image: %w", name, err)
			}
			if path.IsAbs(target) {
				cur = ""
			}
			todo = append(splitPath(target), todo...)
			continue
		}
		if len(todo) > 0 && !fi.IsDir() {
			return "", nil, fmt.Errorf("resolving %s in the image: %w", name, syscall.ENOTDIR)
		}
		cur, host, info = next, h, fi
	}
	if info == nil {
		return "", nil, fmt.Errorf("resolving %s in the image: the root is not a file", name)
	}
	return host, info, nil
}

// readFile reads the regular file name of the image.
func (l layerFS) readFile(name string) ([]byte, error) {
	host, fi, err := l.resolve(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("reading %s in the image: not a regular file", name)
	}
	return os.ReadFile(host)
}

// executable reports whether name is an executable regular file of the image.
func (l layerFS) executable(name string) bool {
	_, fi, err := l.resolve(name)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// splitPath splits a slash-separated path into its elements.
func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// isWhiteout reports whether fi is an overlay whiteout: a 0/0 character
// device.
func isWhiteout(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Rdev == 0
}

// isOpaque reports whether the layer directory dir is marked opaque.
func isOpaque(dir string) bool {
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(dir, opaqueXattr, buf)
	return err == nil && bytes.Equal(buf[:n], []byte("y"))
}
