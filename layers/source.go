package layers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// refNameAnnotation tags an image in an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// resolved is an image a pull has found: the record to write, its distinct
// layers, and for oci:/docker-archive: the identity of the source file as it
// was before reading it.
type resolved struct {
	record imageRecord
	layers []layerSource // distinct by DiffID, bottom first
	source *source
}

// layerSource is one layer to fetch.
type layerSource struct {
	diffID    v1.Hash
	digest    v1.Hash         // of the blob as stored; zero when the source has no blob digest (docker-archive)
	size      int64           // of the blob; 0 when unknown
	sized     bool            // size is the descriptor's: the blob must have it
	mediaType types.MediaType // the descriptor's; "" when the source has none (docker-archive)
	open      func() (io.ReadCloser, error)
}

// fromDescriptor is the layer a manifest's (or an archive's) descriptor d
// names, checked as far as it can be before its blob is read.
func fromDescriptor(diffID v1.Hash, d v1.Descriptor, open func() (io.ReadCloser, error)) (layerSource, error) {
	if err := checkLayerDescriptor(d); err != nil {
		return layerSource{}, err
	}
	return layerSource{diffID: diffID, digest: d.Digest, size: d.Size, sized: true, mediaType: d.MediaType, open: open}, nil
}

// label names the layer in messages and progress: its digest, else its
// DiffID.
func (l layerSource) label() string {
	if l.digest.Hex != "" {
		return l.digest.String()
	}
	return l.diffID.String()
}

// resolve finds the image ref names for platform, from wherever it lives.
func (s *Store) resolve(ctx context.Context, ref Reference, opt PullOptions, platform v1.Platform) (*resolved, error) {
	switch ref.Kind {
	case KindRegistry:
		img, desc, err := s.resolveRegistry(ctx, ref, opt, platform)
		if err != nil {
			return nil, err
		}
		return fromImage(ref, img, desc)
	case KindOCILayout:
		src, err := statSource(sourceFile(ref))
		if err != nil {
			return nil, layoutError(ref, err)
		}
		img, desc, err := layoutImage(ref, platform)
		if err != nil {
			return nil, layoutError(ref, err)
		}
		r, err := fromImage(ref, img, desc)
		if err != nil {
			return nil, err
		}
		r.source = src
		return r, nil
	case KindDockerArchive:
		src, err := statSource(ref.Path)
		if err != nil {
			return nil, archiveError(ref, err)
		}
		r, err := fromArchive(ref)
		if err != nil {
			return nil, archiveError(ref, err)
		}
		r.source = src
		return r, nil
	}
	return nil, fmt.Errorf("pulling %s: nothing to pull for a %s reference", ref, ref.Kind)
}

// layoutImage picks the image of an OCI layout: by the ref.name annotation
// when ref has a tag, else the layout's only image; an index is resolved to
// platform's image. It returns the descriptor the layout gives the image's
// manifest.
func layoutImage(ref Reference, platform v1.Platform) (v1.Image, v1.Descriptor, error) {
	p, err := layout.FromPath(ref.Path)
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	var picked []v1.Descriptor
	var tags []string
	for _, d := range m.Manifests {
		t := d.Annotations[refNameAnnotation]
		if t != "" {
			tags = append(tags, t)
		}
		if ref.Tag == "" || t == ref.Tag {
			picked = append(picked, d)
		}
	}
	if ref.Tag != "" && len(picked) == 0 {
		// Some tools write the whole reference ("docker.io/library/alpine:3").
		for _, d := range m.Manifests {
			if strings.HasSuffix(d.Annotations[refNameAnnotation], ":"+ref.Tag) {
				picked = append(picked, d)
			}
		}
	}
	switch {
	case len(picked) == 0 && ref.Tag != "":
		return nil, v1.Descriptor{}, &hintError{
			err:  fmt.Errorf("no image tagged %q (tags: %s)", ref.Tag, strings.Join(tags, ", ")),
			hint: "name one of the layout's tags: oci:PATH:TAG",
		}
	case len(picked) == 0:
		return nil, v1.Descriptor{}, errors.New("the layout has no image")
	case len(picked) > 1:
		return nil, v1.Descriptor{}, &hintError{
			err:  fmt.Errorf("the layout has %d images", len(picked)),
			hint: fmt.Sprintf("name one by its tag: oci:PATH:TAG (tags: %s)", strings.Join(tags, ", ")),
		}
	}
	d := picked[0]
	if d.MediaType.IsIndex() {
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, v1.Descriptor{}, err
		}
		raw, err := child.RawManifest()
		if err != nil {
			return nil, v1.Descriptor{}, err
		}
		if err := checkBlobSize("index", d, len(raw)); err != nil {
			return nil, v1.Descriptor{}, err
		}
		return imageFromIndex(ref.String(), child, platform)
	}
	img, err := idx.Image(d.Digest)
	return img, d, err
}

// fromImage reads the manifest and config of a registry or layout image,
// checking both against their descriptors (digest, size, media type): desc
// for the manifest, the manifest's for the config and the layers.
func fromImage(ref Reference, img v1.Image, desc v1.Descriptor) (*resolved, error) {
	want := desc.Digest
	raw, err := img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("pulling %s: reading manifest: %w", ref, err)
	}
	if got := sha256Hex(raw); got != want.Hex {
		return nil, fmt.Errorf("pulling %s: manifest digest is sha256:%s, want %s", ref, got, want)
	}
	if err := checkBlobSize("manifest", desc, len(raw)); err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("pulling %s: reading manifest: %w", ref, err)
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("pulling %s: reading config: %w", ref, err)
	}
	if got := sha256Hex(rawCfg); got != m.Config.Digest.Hex {
		return nil, fmt.Errorf("pulling %s: config digest is sha256:%s, want %s", ref, got, m.Config.Digest)
	}
	if err := checkBlobSize("config", m.Config, len(rawCfg)); err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	if !configMediaTypes[m.Config.MediaType] {
		return nil, fmt.Errorf("pulling %s: %w", ref, &DescriptorError{Blob: m.Config.Digest.String(),
			Msg: fmt.Sprintf("media type %q is not an image config: this is not a container image", m.Config.MediaType)})
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("pulling %s: reading config: %w", ref, err)
	}
	if len(m.Layers) != len(cf.RootFS.DiffIDs) {
		return nil, fmt.Errorf("pulling %s: manifest has %d layers but config has %d DiffIDs", ref, len(m.Layers), len(cf.RootFS.DiffIDs))
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	r := newResolved(want.String(), cf)
	r.record.Source = ref.String()
	for i, l := range layers {
		src, err := fromDescriptor(cf.RootFS.DiffIDs[i], m.Layers[i], l.Compressed)
		if err != nil {
			return nil, fmt.Errorf("pulling %s: %w", ref, err)
		}
		r.add(src)
		d := m.Layers[i]
		r.record.Blobs = append(r.record.Blobs, Blob{Digest: d.Digest.String(), Size: d.Size, MediaType: string(d.MediaType)})
	}
	return r, nil
}

// fromArchive reads a docker-archive tarball's only image. Its layers are
// verified by DiffID, the only digest a classic archive (docker save before
// Docker 25, podman save) gives for them; where the archive describes a
// layer (manifest.json's LayerSources, as Docker 25 writes them) the
// descriptor's digest, size and media type are checked too. The image is
// named by its config digest (Docker's image ID): an archive has no
// registry manifest, and computing one would mean compressing every layer.
func fromArchive(ref Reference) (*resolved, error) {
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(ref.Path) })
	if err != nil {
		return nil, err
	}
	if len(m) != 1 {
		return nil, fmt.Errorf("the archive holds %d images; nook reads archives of one image (docker save IMAGE)", len(m))
	}
	d := m[0]
	rawCfg, err := readArchiveMember(ref.Path, d.Config)
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", d.Config, err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", d.Config, err)
	}
	if len(d.Layers) != len(cf.RootFS.DiffIDs) {
		return nil, fmt.Errorf("archive has %d layers but config has %d DiffIDs", len(d.Layers), len(cf.RootFS.DiffIDs))
	}
	r := newResolved("sha256:"+sha256Hex(rawCfg), cf)
	for i, name := range d.Layers {
		diffID := cf.RootFS.DiffIDs[i]
		// The member as stored: a tar (docker save, podman save) or a
		// compressed tar, which Decompress reads alike.
		open := func() (io.ReadCloser, error) { return openArchiveMember(ref.Path, name) }
		src := layerSource{diffID: diffID, open: open}
		if desc, ok := d.LayerSources[diffID]; ok {
			if src, err = fromDescriptor(diffID, desc, open); err != nil {
				return nil, err
			}
		}
		r.add(src)
	}
	return r, nil
}

// newResolved starts the record of an image named digest with config cf.
func newResolved(digest string, cf *v1.ConfigFile) *resolved {
	p := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	return &resolved{record: imageRecord{
		Digest:   digest,
		Platform: p.String(),
		Config: ImageConfig{
			Env:        cf.Config.Env,
			WorkingDir: cf.Config.WorkingDir,
			User:       cf.Config.User,
			Entrypoint: cf.Config.Entrypoint,
			Cmd:        cf.Config.Cmd,
		},
	}}
}

// add appends a layer to the record, and to the layers to fetch unless an
// earlier layer has the same DiffID.
func (r *resolved) add(l layerSource) {
	for _, have := range r.layers {
		if have.diffID == l.diffID {
			r.record.Layers = append(r.record.Layers, l.diffID.String())
			return
		}
	}
	r.record.Layers = append(r.record.Layers, l.diffID.String())
	r.layers = append(r.layers, l)
}

// sha256Hex is the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// layoutError wraps an error reading an OCI layout, with a hint when the
// layout is not there.
func layoutError(ref Reference, err error) error {
	msg := fmt.Errorf("reading OCI layout %s: %w", ref.Path, err)
	if errors.Is(err, fs.ErrNotExist) {
		return &hintError{err: msg, hint: "oci:PATH names a directory holding index.json and blobs/, as written by `skopeo copy … oci:DIR:TAG` or `docker buildx build --output type=oci,tar=false`"}
	}
	var he interface{ Hint() string }
	if errors.As(err, &he) {
		return &hintError{err: msg, hint: he.Hint()}
	}
	return msg
}

// archiveError wraps an error reading a docker-archive tarball, with a hint
// when the tarball is not there.
func archiveError(ref Reference, err error) error {
	msg := fmt.Errorf("reading docker archive %s: %w", ref.Path, err)
	if errors.Is(err, fs.ErrNotExist) {
		return &hintError{err: msg, hint: "docker-archive:PATH names a tarball written by `docker save IMAGE -o PATH` or `podman save`"}
	}
	return msg
}
