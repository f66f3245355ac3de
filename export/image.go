package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/nookenv/nook/layers"
)

// Environment is one built environment to export as an image, as
// project.Environment looks it up.
type Environment struct {
	Store    *layers.Store
	Snapshot *layers.Snapshot
	// Pull is how the base image was pulled: its registries' mirrors,
	// insecure settings and keychain are where its blobs are found again.
	Pull layers.PullOptions
}

// Image is an exported image being made: its layers, bottom first, and its
// config. Its layers' digests are known once made (Make); a base layer's
// are known from the start.
type Image struct {
	layers      []*layer
	config      v1.ConfigFile // RootFS filled in by make
	annotations map[string]string

	rawConfig   []byte
	rawManifest []byte
}

// newImage collects the layers of environment en: the base image's (each
// under its original blob when the source still serves it, else read from
// the store), the built steps', then the project's files unless project
// is nil. warn receives what the user should know (a base layer that gets
// a new digest).
func newImage(ctx context.Context, en Environment, cfg v1.ConfigFile, annotations map[string]string, project *projectFiles, warn func(string)) (*Image, error) {
	snap := en.Snapshot
	if snap.Host {
		return nil, errors.New(`the "host" base cannot be exported: it is this machine's root filesystem, not an image`)
	}
	pulled, err := en.Store.Image(snap.Digest)
	if err != nil {
		return nil, err
	}
	clamp := cfg.Created.Time
	img := &Image{config: cfg, annotations: annotations}
	inImage := map[string]bool{}
	base := "nook: base image " + snap.Ref
	for i, id := range pulled.Layers {
		inImage[id] = true
		l := &layer{createdBy: base, clamp: clamp, dir: en.Store.LayerPath(id)}
		if pulled.Blobs != nil {
			b := pulled.Blobs[i]
			found, err := en.Store.FindBlob(ctx, pulled.Source, b, en.Pull)
			if err == nil {
				l.blob, l.desc = found, &b
				l.diffID, _ = v1.NewHash(id)
				l.digest, _ = v1.NewHash(b.Digest)
				l.size, l.mediaType = b.Size, ociMediaType(b.MediaType)
			} else {
				warn(fmt.Sprintf("base layer %s is exported from the store with a new digest: %v", b.Digest, err))
			}
		} else if i == 0 {
			warn(fmt.Sprintf("the store does not know the blobs of %s (pulled before nook recorded them, or from a docker archive): its layers get new digests; `nook build --update` pulls it again", snap.Ref))
		}
		if l.blob == nil && l.dir == "" {
			return nil, fmt.Errorf("base layer %s: not a sha256 digest", id)
		}
		img.layers = append(img.layers, l)
	}
	for _, dir := range snap.Lowers {
		key := "sha256:" + filepath.Base(dir)
		if inImage[key] {
			continue
		}
		l := &layer{dir: dir, clamp: clamp, createdBy: "nook: step " + key}
		if rec, err := en.Store.BuiltLayerRecord(key); err == nil {
			l.createdBy = fmt.Sprintf("nook: %s: %s", rec.Kind, firstLine(rec.Text))
		}
		img.layers = append(img.layers, l)
	}
	if project != nil {
		img.layers = append(img.layers, &layer{project: project, clamp: clamp,
			createdBy: "nook: the project's files at " + project.workdir})
	}
	return img, nil
}

// make computes every layer that has no digest yet, compressed into dir,
// several at once, then the config and the manifest. done, when set, is
// told of each layer made.
func (img *Image) make(ctx context.Context, dir string, done func(i int, l *layer)) error {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, l := range img.layers {
		g.Go(func() error {
			if err := l.compress(ctx, dir); err != nil {
				return err
			}
			if done != nil {
				done(i, l)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return img.seal()
}

// hash learns the DiffID of every layer that has none yet by reading it,
// writing nothing, then seals the image: its config, and so its ID, are
// known, its manifest is not. done, when set, is told of each layer.
func (img *Image) hash(ctx context.Context, done func(i int, l *layer)) error {
	for i, l := range img.layers {
		if l.diffID.Hex == "" {
			h, err := l.tarTo(ctx, io.Discard)
			if err != nil {
				return fmt.Errorf("layer %d (%s): %w", i+1, l.createdBy, err)
			}
			l.diffID = h
		}
		if done != nil {
			done(i, l)
		}
	}
	return img.seal()
}

// seal writes the config, with the layers' DiffIDs and history, and the
// OCI manifest.
func (img *Image) seal() error {
	cfg := img.config
	cfg.RootFS = v1.RootFS{Type: "layers"}
	cfg.History = nil
	for _, l := range img.layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.diffID)
		cfg.History = append(cfg.History, v1.History{Created: cfg.Created, CreatedBy: l.createdBy})
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	img.rawConfig = raw
	if slices.ContainsFunc(img.layers, func(l *layer) bool { return l.digest.Hex == "" }) {
		img.rawManifest = nil
		return nil // not compressed: a docker archive needs no manifest
	}
	cd := img.ConfigDigest()
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(raw)), Digest: cd},
		Annotations:   img.annotations,
	}
	for _, l := range img.layers {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: l.mediaType, Size: l.size, Digest: l.digest})
	}
	if img.rawManifest, err = json.Marshal(m); err != nil {
		return err
	}
	return nil
}

// ConfigDigest is the digest of the image's config: its image ID, as
// podman and docker show it.
func (img *Image) ConfigDigest() v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(img.rawConfig))
	return h
}

// v1Image is the made image as go-containerregistry writes it; for a
// registry, base blobs that a registry serves may be mounted from there.
func (img *Image) v1Image(forRegistry bool) v1.Image {
	return &v1Image{img: img, forRegistry: forRegistry}
}

// v1Image implements v1.Image over a made Image.
type v1Image struct {
	img         *Image
	forRegistry bool
}

func (v *v1Image) Layers() ([]v1.Layer, error) {
	out := make([]v1.Layer, len(v.img.layers))
	for i, l := range v.img.layers {
		out[i] = v.layer(l)
	}
	return out, nil
}

func (v *v1Image) layer(l *layer) v1.Layer {
	if v.forRegistry {
		return v1Layer{l}.forRegistry()
	}
	return v1Layer{l}
}

func (v *v1Image) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (v *v1Image) Size() (int64, error)                { return int64(len(v.img.rawManifest)), nil }
func (v *v1Image) ConfigName() (v1.Hash, error)        { return v.img.ConfigDigest(), nil }
func (v *v1Image) RawConfigFile() ([]byte, error)      { return v.img.rawConfig, nil }
func (v *v1Image) RawManifest() ([]byte, error)        { return v.img.rawManifest, nil }
func (v *v1Image) ConfigFile() (*v1.ConfigFile, error) {
	return v1.ParseConfigFile(bytes.NewReader(v.img.rawConfig))
}
func (v *v1Image) Manifest() (*v1.Manifest, error) {
	return v1.ParseManifest(bytes.NewReader(v.img.rawManifest))
}

func (v *v1Image) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(v.img.rawManifest))
	return h, err
}

func (v *v1Image) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	for _, l := range v.img.layers {
		if l.digest == h {
			return v.layer(l), nil
		}
	}
	return nil, fmt.Errorf("the image has no layer %s", h)
}

func (v *v1Image) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	for _, l := range v.img.layers {
		if l.diffID == h {
			return v.layer(l), nil
		}
	}
	return nil, fmt.Errorf("the image has no layer with DiffID %s", h)
}

// firstLine is s up to its first newline, with "…" when there is more.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
