package layers

import (
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// compression is how a layer blob is stored.
type compression string

const (
	compressionNone compression = "uncompressed"
	compressionGzip compression = "gzip"
	compressionZstd compression = "zstd"
)

// layerMediaTypes are the layer media types nook reads, with the
// compression each one promises. A blob whose bytes say otherwise is an
// error, wherever the image comes from.
var layerMediaTypes = map[types.MediaType]compression{
	types.OCIUncompressedLayer:           compressionNone,
	types.OCIUncompressedRestrictedLayer: compressionNone,
	types.OCILayer:                       compressionGzip,
	types.OCIRestrictedLayer:             compressionGzip,
	types.OCILayerZStd:                   compressionZstd,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": compressionZstd,
	types.DockerUncompressedLayer:                                  compressionNone,
	types.DockerLayer:                                              compressionGzip,
	types.DockerForeignLayer:                                       compressionGzip,
}

// configMediaTypes are the media types of an image config.
var configMediaTypes = map[types.MediaType]bool{
	types.OCIConfigJSON:    true,
	types.DockerConfigJSON: true,
}

// DescriptorError is a descriptor (a manifest's, an OCI layout's or a
// docker archive's) that does not describe its blob: a size that is
// impossible or not the blob's, a media type that is not one nook reads
// or that the blob's bytes contradict.
type DescriptorError struct {
	Blob string // the blob's digest, or a layer's DiffID where there is no digest
	Msg  string
}

// Error names the blob and what is wrong with its descriptor.
func (e *DescriptorError) Error() string {
	return fmt.Sprintf("blob %s: %s", e.Blob, e.Msg)
}

// Hint says what to do about it.
func (e *DescriptorError) Hint() string {
	return "the image is damaged or was made by a tool that writes wrong descriptors: rebuild or re-save it (docker save, skopeo copy), or pull it from its registry"
}

// checkLayerDescriptor checks what a layer's descriptor says before any of
// its bytes are read: a size that can be a blob's, and a media type nook
// reads. An empty media type (an archive without descriptors) is allowed.
func checkLayerDescriptor(d v1.Descriptor) error {
	if d.Size < 0 {
		return &DescriptorError{Blob: d.Digest.String(), Msg: fmt.Sprintf("its descriptor gives the size %d", d.Size)}
	}
	if _, ok := layerMediaTypes[d.MediaType]; !ok && d.MediaType != "" {
		return &DescriptorError{Blob: d.Digest.String(), Msg: fmt.Sprintf("media type %q is not a layer type nook reads (OCI or Docker image layers: tar, tar+gzip, tar+zstd)", d.MediaType)}
	}
	return nil
}

// checkBlobSize checks that a manifest or config is as long as its
// descriptor says.
func checkBlobSize(what string, d v1.Descriptor, got int) error {
	if d.Size != int64(got) {
		return &DescriptorError{Blob: d.Digest.String(), Msg: fmt.Sprintf("the %s is %d bytes, but its descriptor says %d", what, got, d.Size)}
	}
	return nil
}

// sizedReader reads a blob whose descriptor gives its size: a blob that
// goes on past it (which stops the read at once) or ends short of it is a
// *DescriptorError.
type sizedReader struct {
	r    io.Reader
	blob string
	size int64
	read int64
}

func (s *sizedReader) Read(p []byte) (int, error) {
	// At most one byte past the size: enough to know it lies.
	if left := s.size + 1 - s.read; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := s.r.Read(p)
	s.read += int64(n)
	switch {
	case s.read > s.size:
		return n, &DescriptorError{Blob: s.blob, Msg: fmt.Sprintf("the blob is larger than the %d bytes its descriptor says", s.size)}
	case err == io.EOF && s.read < s.size:
		return n, &DescriptorError{Blob: s.blob, Msg: fmt.Sprintf("the blob is %d bytes, but its descriptor says %d", s.read, s.size)}
	}
	return n, err
}
