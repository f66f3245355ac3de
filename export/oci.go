package export

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
)

// ociBlobDir is where the blobs of an OCI layout at dir live, made if
// missing: the layers are compressed straight into it.
func ociBlobDir(dir string) (string, error) {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return "", fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	return blobs, nil
}

// writeOCI adds the made image to the OCI image layout at dir (made if
// missing), named ref: the ref.name annotation holds refName — the tag
// for the exported role's image (oci:DIR:TAG, as skopeo and podman name
// images in a layout), the whole name for the images of other
// environments, which share that tag — and io.containerd.image.name the
// whole name. An image of the layout with the same ref.name is replaced.
func writeOCI(ctx context.Context, img *Image, dir string, ref name.Tag, refName string) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("writing OCI layout %s: %w", dir, err)
		}
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return fmt.Errorf("writing OCI layout %s: %w", dir, err)
		}
	}
	ann := map[string]string{annRefName: refName, "io.containerd.image.name": ref.Name()}
	if err := p.ReplaceImage(img.v1Image(false), match.Annotation(annRefName, refName), layout.WithAnnotations(ann)); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	return nil
}
