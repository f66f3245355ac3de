package layers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PulledImage is an image of the store as its pull recorded it.
type PulledImage struct {
	Digest   string   // the manifest digest (the config digest for docker-archive images)
	Platform string   // "linux/amd64"
	Source   string   // the canonical reference it was pulled from; "" when not recorded
	Layers   []string // DiffIDs, bottom first, a layer that occurs twice listed twice
	Blobs    []Blob   // the layers as Source stores them, one per entry of Layers; none when not recorded
	Config   ImageConfig
}

// Image reads the record of the image with the given manifest digest.
func (s *Store) Image(digest string) (*PulledImage, error) {
	hex, err := digestHex(digest)
	if err != nil {
		return nil, fmt.Errorf("reading image %s: %w", digest, err)
	}
	var ir imageRecord
	if err := readRecord(s.path(imagesDir, hex+".json"), &ir); err != nil {
		return nil, fmt.Errorf("reading image %s: %w", digest, err)
	}
	img := &PulledImage{Digest: ir.Digest, Platform: ir.Platform, Source: ir.Source, Layers: ir.Layers, Config: ir.Config}
	if len(ir.Blobs) == len(ir.Layers) {
		img.Blobs = ir.Blobs
	}
	return img, nil
}

// FoundBlob is a blob of a base image where its source still serves it.
type FoundBlob struct {
	// Repo is the registry repository that serves it (a mirror's when a
	// mirror does); nil for an OCI layout.
	Repo *name.Repository
	// Open streams the blob as stored; the caller checks its digest.
	Open func() (io.ReadCloser, error)
}

// ErrBlobGone is wrapped by FindBlob's error when the source no longer
// serves the blob (or cannot be reached).
var ErrBlobGone = errors.New("blob not available")

// FindBlob finds blob b of an image pulled from source (PulledImage.Source):
// on a registry as Pull looks there (each mirror, then the registry itself,
// with the keychain and insecure settings of opt), by a HEAD request; in
// an OCI layout, by its file. Nothing is downloaded.
func (s *Store) FindBlob(ctx context.Context, source string, b Blob, opt PullOptions) (*FoundBlob, error) {
	h, err := v1.NewHash(b.Digest)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", b.Digest, err)
	}
	ref, err := ParseReference(source)
	if err != nil {
		return nil, err
	}
	switch ref.Kind {
	case KindOCILayout:
		path := filepath.Join(ref.Path, "blobs", h.Algorithm, h.Hex)
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			if err == nil || errors.Is(err, fs.ErrNotExist) {
				err = fs.ErrNotExist
			}
			return nil, fmt.Errorf("blob %s in %s: %w: %w", b.Digest, ref.Path, ErrBlobGone, err)
		}
		return &FoundBlob{Open: func() (io.ReadCloser, error) { return os.Open(path) }}, nil
	case KindRegistry:
		return s.findRegistryBlob(ctx, ref, h, opt)
	}
	return nil, fmt.Errorf("blob %s of %s: %w: a %s image keeps no blobs", b.Digest, source, ErrBlobGone, ref.Kind)
}

// findRegistryBlob asks each candidate place of ref for the blob.
func (s *Store) findRegistryBlob(ctx context.Context, ref Reference, h v1.Hash, opt PullOptions) (*FoundBlob, error) {
	cands, err := candidates(ref.Name, opt.Registries)
	if err != nil {
		return nil, err
	}
	ropts := s.remoteOptions(ctx, opt)
	var errs []error
	for _, c := range cands {
		repo := c.Context()
		l, err := remote.Layer(repo.Digest(h.String()), ropts...)
		if err == nil {
			var ok bool
			if ok, err = l.(interface{ Exists() (bool, error) }).Exists(); err == nil && !ok {
				err = fs.ErrNotExist
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", repo, err))
			continue
		}
		return &FoundBlob{Repo: &repo, Open: l.Compressed}, nil
	}
	return nil, fmt.Errorf("blob %s: %w: %w", h, ErrBlobGone, errors.Join(errs...))
}
