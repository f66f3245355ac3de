//go:build linux

package layers

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// compressedLayer is a layer tar with enough data to span many reads.
func compressedLayer(t *testing.T) []byte {
	return writeLayerTar(t,
		dirEntry("data/", 0o755),
		regEntry("data/big", strings.Repeat("layer bytes ", 100000), 0o644),
		regEntry("data/small", "small", 0o600),
	)
}

func gzipBytes(t *testing.T, parts ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts { // one gzip member per part, concatenated as pigz may write
		zw := stdgzip.NewWriter(&buf)
		if _, err := zw.Write(p); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func zstdBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecompress(t *testing.T) {
	layer := compressedLayer(t)
	for _, tc := range []struct {
		name string
		blob []byte
	}{
		{"gzip", gzipBytes(t, layer)},
		{"gzip-members", gzipBytes(t, layer[:1000], layer[1000:])},
		{"zstd", zstdBytes(t, layer)},
		{"plain", layer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blob := bytes.NewReader(tc.blob)
			rc, err := Decompress(blob)
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			if !bytes.Equal(got, layer) {
				t.Errorf("decompressed %d bytes, want the %d-byte layer", len(got), len(layer))
			}
			if blob.Len() != 0 {
				t.Errorf("%d bytes of the blob left unread", blob.Len())
			}
			if err := rc.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

func TestDecompressThenUnpack(t *testing.T) {
	layer := compressedLayer(t)
	for name, blob := range map[string][]byte{"gzip": gzipBytes(t, layer), "zstd": zstdBytes(t, layer)} {
		t.Run(name, func(t *testing.T) {
			rc, err := Decompress(bytes.NewReader(blob))
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			dir := newLayerDir(t)
			if _, err := Unpack(rc, dir); err != nil {
				t.Fatalf("Unpack: %v", err)
			}
			wantContent(t, filepath.Join(dir, "data/big"), strings.Repeat("layer bytes ", 100000))
			wantContent(t, filepath.Join(dir, "data/small"), "small")
		})
	}
}

func TestDecompressEmpty(t *testing.T) {
	rc, err := Decompress(bytes.NewReader(nil))
	if err != nil {
		t.Fatalf("Decompress of an empty blob: %v", err)
	}
	if got, err := io.ReadAll(rc); err != nil || len(got) != 0 {
		t.Errorf("read %q, %v; want nothing", got, err)
	}
}

func TestDecompressCloseReleasesZstd(t *testing.T) {
	rc, err := Decompress(bytes.NewReader(zstdBytes(t, compressedLayer(t))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Read(make([]byte, 100)); err == nil {
		t.Error("Read after Close succeeded: the decoder was not released")
	}
}

func TestDecompressRefusesOtherFormats(t *testing.T) {
	for name, blob := range map[string][]byte{
		"xz":    {0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46},
		"bzip2": {'B', 'Z', 'h', '9', 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x00},
	} {
		if _, err := Decompress(bytes.NewReader(blob)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Decompress of %s: %v, want an error naming %s", name, err, name)
		}
	}
}

func TestDecompressBrokenGzip(t *testing.T) {
	blob := gzipBytes(t, compressedLayer(t))
	blob[len(blob)-5] ^= 0xff // the CRC-32
	rc, err := Decompress(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err == nil {
		t.Error("a gzip blob with a bad checksum read without error")
	}
}
