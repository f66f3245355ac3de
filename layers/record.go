package layers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// refRecord is refs/<key>.json: what a reference resolved to at its last
// Pull. A registry tag stays resolved to its digest until the next Pull.
type refRecord struct {
	Ref      string  `json:"ref"`      // canonical reference (Reference.String)
	Platform string  `json:"platform"` // "linux/amd64"
	Digest   string  `json:"digest"`   // image record name: the manifest digest (the config digest for docker-archive)
	Source   *source `json:"source,omitempty"`
}

// imageRecord is images/<digest-hex>.json: the image's platform, its layers
// by DiffID, bottom first, and the config subset a run uses.
type imageRecord struct {
	Digest   string   `json:"digest"`
	Platform string   `json:"platform"`
	Layers   []string `json:"layers"` // DiffIDs ("sha256:…"), bottom first
	// StackFrom is the index in Layers of the lowest layer a run stacks:
	// a layer whose root is opaque (".wh..wh..opq" in /) hides every
	// layer below it, and overlayfs does not honour an opaque lower root,
	// so the layers below are left out of the stack.
	StackFrom int         `json:"stackFrom,omitempty"`
	Config    ImageConfig `json:"config"`

	// Source is the canonical reference the image was pulled from, and
	// Blobs its layers as the source stores them, one per entry of Layers:
	// what nook export needs to hand a base layer on under its original
	// digest. Images pulled before nook recorded them, and docker-archive
	// images (whose tarballs give no blob digests), have none.
	Source string `json:"source,omitempty"`
	Blobs  []Blob `json:"blobs,omitempty"`
}

// Blob is a layer as an image source stores it: compressed, named by its
// digest.
type Blob struct {
	Digest    string `json:"digest"`    // "sha256:…" of the blob
	Size      int64  `json:"size"`      // of the blob, in bytes
	MediaType string `json:"mediaType"` // as the manifest gives it
}

// source identifies the file an oci: or docker-archive: image was imported
// from (the layout's index.json, or the tarball), so that Lookup notices with
// one stat that it changed.
type source struct {
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtimeNs"`
}

// statSource returns the identity of the file at path.
func statSource(path string) (*source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("stat %s: no device and inode", path)
	}
	return &source{Dev: uint64(st.Dev), Ino: st.Ino, Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}, nil
}

// sourceFile is the file whose identity stands for ref's content: the
// layout's index.json or the archive itself; "" for registry references.
func sourceFile(ref Reference) string {
	switch ref.Kind {
	case KindOCILayout:
		return filepath.Join(ref.Path, "index.json")
	case KindDockerArchive:
		return ref.Path
	}
	return ""
}

// refKey names the ref record of a canonical reference on a platform.
func refKey(ref, platform string) string {
	sum := sha256.Sum256([]byte(ref + "\x00" + platform))
	return hex.EncodeToString(sum[:])
}

// digestHex returns the hex part of a "sha256:<64 hex>" digest, refusing
// anything else so that a record never names a path outside the store.
func digestHex(d string) (string, error) {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(h) != 64 {
		return "", fmt.Errorf("digest %q is not sha256:<64 hex digits>", d)
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("digest %q is not sha256:<64 hex digits>", d)
		}
	}
	return h, nil
}

// readRecord decodes the JSON record at path into v.
func readRecord(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("reading record %s: %w", path, err)
	}
	return nil
}

// writeRecord writes v as JSON to path atomically: a temporary file in the
// same directory, synced, then renamed over path. A reader sees the old
// record or the new one, never a part.
func writeRecord(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding record %s: %w", path, err)
	}
	if err := writeFileAtomic(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing record %s: %w", path, err)
	}
	return nil
}
