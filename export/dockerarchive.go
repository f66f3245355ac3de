package export

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// dockerManifest is an entry of a docker archive's manifest.json, as
// `docker save` and `podman save` write it.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// writeDockerArchive writes the image as a docker archive to path, its
// layers uncompressed as docker save and podman save write them: no
// layer is compressed, and a layer not made yet (no spool) is streamed
// from its source straight into the file. name is the image's tag there,
// which `podman load` and `docker load` show, is asked for once the
// image's config is known. The file is written beside
// path and renamed into place.
func writeDockerArchive(ctx context.Context, img *Image, path string, nameOf func() (string, error), done func(i int, l *layer)) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".nook-export-*")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	a := &archiveWriter{f: tmp}
	var files []string
	for i, l := range img.layers {
		file := fmt.Sprintf("layers/%d.tar", i+1)
		diffID, err := a.stream(file, func(w io.Writer) (string, error) {
			if l.spool != "" {
				rc, err := v1Layer{l}.Uncompressed()
				if err != nil {
					return "", err
				}
				defer rc.Close()
				_, err = io.Copy(w, rc)
				return l.diffID.Hex, err
			}
			h, err := l.tarTo(ctx, w)
			return h.Hex, err
		})
		if err != nil {
			return fmt.Errorf("layer %d (%s): %w", i+1, l.createdBy, err)
		}
		if l.diffID.Hex != "" && l.diffID.Hex != diffID {
			return fmt.Errorf("layer %d (%s): DiffID sha256:%s, want %s", i+1, l.createdBy, diffID, l.diffID)
		}
		l.diffID.Algorithm, l.diffID.Hex = "sha256", diffID
		files = append(files, file)
		if done != nil {
			done(i, l)
		}
	}
	if err := img.seal(); err != nil {
		return err
	}
	name, err := nameOf()
	if err != nil {
		return err
	}
	cfgName := img.ConfigDigest().Hex + ".json"
	if err := a.file(cfgName, img.rawConfig); err != nil {
		return err
	}
	m, err := json.Marshal([]dockerManifest{{Config: cfgName, RepoTags: []string{name}, Layers: files}})
	if err != nil {
		return err
	}
	if err := a.file("manifest.json", m); err != nil {
		return err
	}
	if err := a.close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// archiveWriter writes a tar file whose entries' sizes are learnt as they
// are written: each header is written with size 0 and rewritten in place
// once the content is there, so that nothing is spooled.
type archiveWriter struct {
	f   *os.File
	off int64
}

var archiveTime = time.Unix(0, 0).UTC()

// header is the 512-byte ustar header of a file name of size bytes.
func header(name string, size int64) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644,
		ModTime: archiveTime, Format: tar.FormatUSTAR})
	if err != nil {
		return nil, err
	}
	return b.Bytes()[:512], nil
}

// stream writes an entry whose content fill writes, and returns fill's
// result.
func (a *archiveWriter) stream(name string, fill func(io.Writer) (string, error)) (string, error) {
	h, err := header(name, 0)
	if err != nil {
		return "", err
	}
	start := a.off
	if _, err := a.f.WriteAt(h, start); err != nil {
		return "", err
	}
	w := &offsetWriter{f: a.f, off: start + 512}
	res, err := fill(w)
	if err != nil {
		return "", err
	}
	size := w.off - start - 512
	if h, err = header(name, size); err != nil {
		return "", err
	}
	if _, err := a.f.WriteAt(h, start); err != nil {
		return "", err
	}
	a.off = w.off
	return res, a.pad()
}

func (a *archiveWriter) file(name string, data []byte) error {
	_, err := a.stream(name, func(w io.Writer) (string, error) {
		_, err := w.Write(data)
		return "", err
	})
	return err
}

// pad fills the last entry up to a 512-byte block.
func (a *archiveWriter) pad() error {
	if r := a.off % 512; r != 0 {
		if _, err := a.f.WriteAt(make([]byte, 512-r), a.off); err != nil {
			return err
		}
		a.off += 512 - r
	}
	return nil
}

// close writes the two zero blocks that end a tar file.
func (a *archiveWriter) close() error {
	_, err := a.f.WriteAt(make([]byte, 1024), a.off)
	a.off += 1024
	return err
}

type offsetWriter struct {
	f   *os.File
	off int64
}

func (w *offsetWriter) Write(p []byte) (int, error) {
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	return n, err
}
