package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/nookenv/nook/layers"
)

// layer is one layer of an exported image and where its content comes
// from: a layer directory of the store, the project's files, or a base
// image's blob as its source still serves it.
type layer struct {
	createdBy string // for the image's history

	dir     string            // a layer directory of the store
	project *projectFiles     // the project's files
	blob    *layers.FoundBlob // a base layer under its original digest
	desc    *layers.Blob      // blob's descriptor
	clamp   time.Time         // times later than this are clamped

	// Known once the layer is made (or, for a blob, from its record):
	diffID    v1.Hash
	digest    v1.Hash
	size      int64
	mediaType types.MediaType
	spool     string // the compressed blob, when made here
}

// projectFiles is the project's top layer.
type projectFiles struct {
	dir     string // the project directory
	workdir string // where its files go in the image
}

// openTar opens the layer's uncompressed tar stream. For a blob the
// stream is checked against the blob digest and the DiffID as it is
// read: a mismatch is the error of the last Read. A layer directory is
// read through a child process that dies with the calling thread: read
// and close the stream in the goroutine that opened it.
func (l *layer) openTar(ctx context.Context) (io.ReadCloser, error) {
	switch {
	case l.blob != nil:
		rc, err := l.blob.Open()
		if err != nil {
			return nil, fmt.Errorf("fetching base layer %s: %w", l.desc.Digest, err)
		}
		blob := &digestReader{r: rc, h: sha256.New(), want: l.digest, what: "blob"}
		dr, err := layers.Decompress(blob)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("base layer %s: %w", l.desc.Digest, err)
		}
		return &digestReader{r: dr, h: sha256.New(), want: l.diffID, what: "DiffID", also: blob}, nil
	case l.project != nil:
		pr, pw := io.Pipe()
		go func() {
			pw.CloseWithError(writeProjectLayer(pw, l.project.dir, l.project.workdir, l.clamp))
		}()
		return pr, nil
	}
	return openLayerTar(l.dir, l.clamp)
}

// tarTo writes the layer's tar stream to w and returns its DiffID.
func (l *layer) tarTo(ctx context.Context, w io.Writer) (v1.Hash, error) {
	rc, err := l.openTar(ctx)
	if err != nil {
		return v1.Hash{}, err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(w, h), rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return v1.Hash{}, err
	}
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, nil
}

// compress makes the layer's gzip blob in dir (a blob keeps its own and
// makes nothing) and learns its digests and size.
func (l *layer) compress(ctx context.Context, dir string) error {
	if l.blob != nil || l.spool != "" {
		return nil
	}
	f, err := os.CreateTemp(dir, ".nook-layer-*")
	if err != nil {
		return err
	}
	defer func() {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bh := sha256.New()
	counter := &countWriter{w: io.MultiWriter(f, bh)}
	zw, err := gzip.NewWriterLevel(counter, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	diffID, err := l.tarTo(ctx, zw)
	if err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	l.diffID = diffID
	l.digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(bh.Sum(nil))}
	l.size = counter.n
	l.mediaType = types.OCILayer
	l.spool = filepath.Join(dir, l.digest.Hex)
	if err := os.Rename(f.Name(), l.spool); err != nil {
		return err
	}
	f = nil
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// digestReader hashes what it reads and, at the end, fails unless the
// digest is want. Closing it closes r and also.
type digestReader struct {
	r    io.ReadCloser
	h    hash.Hash
	want v1.Hash
	what string
	also io.Closer
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(d.h.Sum(nil)); got != d.want.Hex {
			return n, &layers.DigestError{What: d.what, Want: d.want.String(), Got: "sha256:" + got}
		}
	}
	return n, err
}

func (d *digestReader) Close() error {
	err := d.r.Close()
	if d.also != nil {
		err = errors.Join(err, d.also.Close())
	}
	return err
}

// v1Layer is the layer as go-containerregistry writes it to a layout or a
// registry; a base blob is fetched from its source only when the
// destination lacks it.
type v1Layer struct{ l *layer }

func (v v1Layer) Digest() (v1.Hash, error)            { return v.l.digest, nil }
func (v v1Layer) DiffID() (v1.Hash, error)            { return v.l.diffID, nil }
func (v v1Layer) Size() (int64, error)                { return v.l.size, nil }
func (v v1Layer) MediaType() (types.MediaType, error) { return v.l.mediaType, nil }

func (v v1Layer) Compressed() (io.ReadCloser, error) {
	if v.l.spool != "" {
		return os.Open(v.l.spool)
	}
	return &lazyReader{open: func() (io.ReadCloser, error) {
		rc, err := v.l.blob.Open()
		if err != nil {
			return nil, err
		}
		return &digestReader{r: rc, h: sha256.New(), want: v.l.digest, what: "blob"}, nil
	}}, nil
}

func (v v1Layer) Uncompressed() (io.ReadCloser, error) {
	rc, err := v.Compressed()
	if err != nil {
		return nil, err
	}
	dr, err := layers.Decompress(rc)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &digestReader{r: dr, h: sha256.New(), want: v.l.diffID, what: "DiffID", also: rc}, nil
}

// forRegistry is the layer for a push: a base blob that a registry serves
// can be mounted from there, when the push goes to the same registry.
func (v v1Layer) forRegistry() v1.Layer {
	if v.l.blob != nil && v.l.blob.Repo != nil {
		return &remote.MountableLayer{Layer: v, Reference: v.l.blob.Repo.Digest(v.l.digest.String())}
	}
	return v
}

// lazyReader opens its source on the first Read: a layout that has the
// blob already closes it unread.
type lazyReader struct {
	open func() (io.ReadCloser, error)
	rc   io.ReadCloser
}

func (z *lazyReader) Read(p []byte) (int, error) {
	if z.rc == nil {
		rc, err := z.open()
		if err != nil {
			return 0, err
		}
		z.rc = rc
	}
	return z.rc.Read(p)
}

func (z *lazyReader) Close() error {
	if z.rc == nil {
		return nil
	}
	return z.rc.Close()
}

// ociMediaType is the OCI name of a layer media type: a Docker layer's
// blob is byte for byte an OCI layer, so it keeps its digest.
func ociMediaType(mt string) types.MediaType {
	switch types.MediaType(mt) {
	case types.DockerLayer:
		return types.OCILayer
	case types.DockerForeignLayer:
		return types.OCIRestrictedLayer
	case types.DockerUncompressedLayer:
		return types.OCIUncompressedLayer
	}
	return types.MediaType(mt)
}
