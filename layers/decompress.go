package layers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Magic numbers at the start of a layer blob.
var (
	gzipMagic  = []byte{0x1f, 0x8b}
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	xzMagic    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	bzip2Magic = []byte{'B', 'Z', 'h'}
	// bzip2Block follows "BZh" and the block size digit: the first block's magic (BCD pi).
	bzip2Block = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
)

// decompressBuffer is the read-ahead between the blob and the decoder: large
// enough that a registry or file stream is read in few, big reads.
const decompressBuffer = 64 << 10

// Decompress returns the uncompressed stream of a layer blob: gzip or zstd (by
// magic bytes, with github.com/klauspost/compress, not the standard library)
// or plain tar. The decoders read r to its end (gzip members may be
// concatenated). Close releases the decoder's resources (zstd's goroutines and
// buffers); it does not close r.
//
// xz and bzip2 blobs, which old Docker versions accepted but no current tool
// writes, are refused with an error saying so rather than misread as tar.
func Decompress(r io.Reader) (io.ReadCloser, error) {
	return decompress(r, "", "")
}

// decompress is Decompress for the blob named blob whose media type
// promises a compression (none when mediaType is "" or unknown): a blob
// whose magic bytes say otherwise is a *DescriptorError.
func decompress(r io.Reader, mediaType types.MediaType, blob string) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, decompressBuffer)
	// Peek at most what the longest test needs; a short stream is fine (an
	// empty layer is an empty tar).
	head, err := br.Peek(len(bzip2Magic) + 1 + len(bzip2Block))
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("reading layer blob: %w", err)
	}
	got := compressionNone
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		got = compressionGzip
	case bytes.HasPrefix(head, zstdMagic):
		got = compressionZstd
	}
	if want, ok := layerMediaTypes[mediaType]; ok && got != want {
		return nil, &DescriptorError{Blob: blob, Msg: fmt.Sprintf("the blob is %s, but its media type %s says %s", got, mediaType, want)}
	}
	switch {
	case got == compressionGzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading gzip layer header: %w", err)
		}
		return zr, nil
	case got == compressionZstd:
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("starting zstd layer decoder: %w", err)
		}
		return zr.IOReadCloser(), nil
	case bytes.HasPrefix(head, xzMagic):
		return nil, fmt.Errorf("layer blob is xz-compressed: nook reads gzip, zstd and plain tar layers")
	case bytes.HasPrefix(head, bzip2Magic) && len(head) == len(bzip2Magic)+1+len(bzip2Block) &&
		head[3] >= '1' && head[3] <= '9' && bytes.Equal(head[4:], bzip2Block):
		return nil, fmt.Errorf("layer blob is bzip2-compressed: nook reads gzip, zstd and plain tar layers")
	}
	return io.NopCloser(br), nil
}
