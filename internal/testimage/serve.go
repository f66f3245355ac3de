package testimage

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Registry is an in-process registry on a loopback port.
type Registry struct {
	server  *httptest.Server
	Host    string // "127.0.0.1:PORT"
	uploads atomic.Int64
}

// NewRegistry starts an empty in-process registry.
func NewRegistry() *Registry {
	r := &Registry{}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// A blob's content arrives with the PUT that ends its upload; a
		// blob mounted from another repository, or already there, has none.
		if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/blobs/uploads/") {
			r.uploads.Add(1)
		}
		h.ServeHTTP(w, req)
	}))
	r.Host = strings.TrimPrefix(r.server.URL, "http://")
	return r
}

// Uploads is how many blobs were uploaded to the registry so far.
func (r *Registry) Uploads() int64 { return r.uploads.Load() }

// Close stops the registry.
func (r *Registry) Close() { r.server.Close() }

// Push stores img in the registry as repo:tag and returns the reference.
func (r *Registry) Push(repo string, img v1.Image) (string, error) {
	ref := r.Host + "/" + repo
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("parsing %s: %w", ref, err)
	}
	if err := remote.Write(parsed, img); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	return ref, nil
}

// WriteLayout writes img into a new OCI image layout at dir, tagged tag.
func WriteLayout(dir, tag string, img v1.Image) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dir, err)
	}
	annotations := map[string]string{"org.opencontainers.image.ref.name": tag}
	if err := p.AppendImage(img, layout.WithAnnotations(annotations)); err != nil {
		return fmt.Errorf("adding image to OCI layout %s: %w", dir, err)
	}
	return nil
}

// WriteArchive writes img as a `docker save` tarball at path, tagged ref.
func WriteArchive(path, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", ref, err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return fmt.Errorf("writing docker archive %s: %w", path, err)
	}
	return nil
}
