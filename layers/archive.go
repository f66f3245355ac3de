package layers

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
)

// maxArchiveLinks bounds the symbolic links followed to a member of a
// docker archive (older `docker save` links repeated layers to the first).
const maxArchiveLinks = 8

// maxArchiveConfig bounds an image config read from a docker archive.
const maxArchiveConfig = 16 << 20

// openArchiveMember opens the member name of the tar file at file, as
// stored. Closing it closes the file.
func openArchiveMember(file, name string) (io.ReadCloser, error) {
	for range maxArchiveLinks {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(f)
		link := ""
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				f.Close()
				return nil, fmt.Errorf("%s is not in the archive", name)
			}
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("looking for %s in the archive: %w", name, err)
			}
			if path.Clean(hdr.Name) != path.Clean(name) {
				continue
			}
			if hdr.Typeflag == tar.TypeSymlink || hdr.Typeflag == tar.TypeLink {
				link = path.Join(path.Dir(name), hdr.Linkname)
				if hdr.Typeflag == tar.TypeLink {
					link = hdr.Linkname // relative to the archive's root
				}
				break
			}
			return struct {
				io.Reader
				io.Closer
			}{tr, f}, nil
		}
		f.Close()
		name = link
	}
	return nil, fmt.Errorf("%s: more than %d links in the archive", name, maxArchiveLinks)
}

// readArchiveMember reads a small member (a config) of the tar file at
// file.
func readArchiveMember(file, name string) ([]byte, error) {
	rc, err := openArchiveMember(file, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxArchiveConfig+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxArchiveConfig {
		return nil, fmt.Errorf("%s is larger than %d bytes: not an image config", name, maxArchiveConfig)
	}
	return b, nil
}
