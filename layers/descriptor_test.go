package layers

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// lie is a descriptor that does not tell the truth about its blob, and
// what the error must say about it.
type lie struct {
	name string
	edit func(d *v1.Descriptor)
	want string
}

func lies() []lie {
	return []lie{
		{"size -1", func(d *v1.Descriptor) { d.Size = -1 }, "size -1"},
		{"size ×1000", func(d *v1.Descriptor) { d.Size *= 1000 }, "but its descriptor says"},
		{"size halved", func(d *v1.Descriptor) { d.Size /= 2 }, "larger than"},
		{"gzip labelled zstd", func(d *v1.Descriptor) { d.MediaType = types.OCILayerZStd }, "the blob is gzip, but its media type application/vnd.oci.image.layer.v1.tar+zstd says zstd"},
		{"gzip labelled uncompressed", func(d *v1.Descriptor) { d.MediaType = types.OCIUncompressedLayer }, "the blob is gzip"},
		{"evil media type", func(d *v1.Descriptor) { d.MediaType = "application/x-evil" }, `media type "application/x-evil" is not a layer type`},
	}
}

// wantDescriptorError fails unless err is a *DescriptorError naming blob
// and saying want, and the store holds nothing of the pull.
func wantDescriptorError(t *testing.T, s *Store, err error, blob, want string) {
	t.Helper()
	var de *DescriptorError
	if !errors.As(err, &de) || de.Blob != blob || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v; want a DescriptorError naming %s and saying %q", err, blob, want)
	}
	if !strings.Contains(err.Error(), blob) {
		t.Errorf("the error does not name the blob %s: %v", blob, err)
	}
	assertNoLayerLeft(t, s)
}

// rewriteLayoutManifest edits the manifest of a layout's only image and
// points index.json at the edited manifest.
func rewriteLayoutManifest(t *testing.T, dir string, edit func(m *v1.Manifest)) {
	t.Helper()
	idxPath := filepath.Join(dir, "index.json")
	raw, err := os.ReadFile(idxPath)
	if err != nil {
		t.Fatal(err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	mraw, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", idx.Manifests[0].Digest.Hex))
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(mraw, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	if mraw, err = json.Marshal(&m); err != nil {
		t.Fatal(err)
	}
	d := sha256Of(mraw)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Hex), mraw, 0o644); err != nil {
		t.Fatal(err)
	}
	idx.Manifests[0].Digest, idx.Manifests[0].Size = d, int64(len(mraw))
	if raw, err = json.Marshal(&idx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(idxPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOCILayoutLyingLayerDescriptors(t *testing.T) {
	l := gzipLayer(t, map[string]string{"f": randomBytes(t, 4096)})
	for _, tc := range lies() {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "layout")
			writeLayout(t, dir, map[string]v1.Image{"": testImage(t, "", l)})
			rewriteLayoutManifest(t, dir, func(m *v1.Manifest) { tc.edit(&m.Layers[0]) })
			s := testStore(t, "", nil)
			_, err := s.Pull(context.Background(), "oci:"+dir, PullOptions{})
			wantDescriptorError(t, s, err, l.blobDigest(), tc.want)
		})
	}
}

func TestOCILayoutLyingManifestAndConfigDescriptors(t *testing.T) {
	img := testImage(t, "", gzipLayer(t, map[string]string{"f": "x\n"}))
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(m *v1.Manifest)
		want string
	}{
		{"config size", func(m *v1.Manifest) { m.Config.Size++ }, "the config is"},
		{"config media type", func(m *v1.Manifest) { m.Config.MediaType = "application/x-evil" }, "not an image config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "layout")
			writeLayout(t, dir, map[string]v1.Image{"": img})
			rewriteLayoutManifest(t, dir, tc.edit)
			s := testStore(t, "", nil)
			_, err := s.Pull(context.Background(), "oci:"+dir, PullOptions{})
			wantDescriptorError(t, s, err, cfg.String(), tc.want)
		})
	}

	// The index's descriptor of the manifest lies about its size.
	dir := filepath.Join(t.TempDir(), "layout")
	writeLayout(t, dir, map[string]v1.Image{"": img})
	idxPath := filepath.Join(dir, "index.json")
	raw, err := os.ReadFile(idxPath)
	if err != nil {
		t.Fatal(err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	idx.Manifests[0].Size *= 1000
	raw, _ = json.Marshal(&idx)
	if err := os.WriteFile(idxPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	s := testStore(t, "", nil)
	_, err = s.Pull(context.Background(), "oci:"+dir, PullOptions{})
	wantDescriptorError(t, s, err, idx.Manifests[0].Digest.String(), "the manifest is")
}

// writeDocker25Save writes a tarball as Docker 25's `docker save` does: the
// layer under blobs/sha256/, described in manifest.json's LayerSources by
// desc (its true descriptor once edit has had its way with it).
func writeDocker25Save(t *testing.T, path string, layer *memLayer, edit func(d *v1.Descriptor)) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	cf := &v1.ConfigFile{OS: "linux", Architecture: hostPlatform().Architecture,
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{layer.diffID}}}
	cfg, err := json.Marshal(cf)
	if err != nil {
		t.Fatal(err)
	}
	blob := "blobs/sha256/" + sha256Of(layer.blob).Hex
	add(blob, layer.blob)
	add("blobs/sha256/"+sha256Of(cfg).Hex, cfg)
	desc := v1.Descriptor{MediaType: layer.mt, Size: int64(len(layer.blob)), Digest: sha256Of(layer.blob)}
	if edit != nil {
		edit(&desc)
	}
	manifest, _ := json.Marshal([]map[string]any{{
		"Config": "blobs/sha256/" + sha256Of(cfg).Hex, "RepoTags": []string{"app:1"}, "Layers": []string{blob},
		"LayerSources": map[string]v1.Descriptor{layer.diffID.String(): desc},
	}})
	add("manifest.json", manifest)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDockerArchiveWithLayerDescriptors(t *testing.T) {
	l := gzipLayer(t, map[string]string{"f": "described\n"})
	path := filepath.Join(t.TempDir(), "saved.tar")
	writeDocker25Save(t, path, l, nil)
	s := testStore(t, "", nil)
	snap, err := s.Pull(context.Background(), "docker-archive:"+path, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "f"); got != "described\n" {
		t.Errorf("f = %q", got)
	}
}

func TestDockerArchiveLyingLayerDescriptors(t *testing.T) {
	l := gzipLayer(t, map[string]string{"f": randomBytes(t, 4096)})
	for _, tc := range lies() {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "saved.tar")
			writeDocker25Save(t, path, l, tc.edit)
			s := testStore(t, "", nil)
			_, err := s.Pull(context.Background(), "docker-archive:"+path, PullOptions{})
			wantDescriptorError(t, s, err, l.blobDigest(), tc.want)
		})
	}
}

func TestRegistryLyingLayerMediaType(t *testing.T) {
	reg := startRegistry(t)
	l := gzipLayer(t, map[string]string{"f": "x\n"})
	l.mt = types.OCILayerZStd
	ref := reg.push(t, "test/lying:1", testImage(t, "", l))
	s := testStore(t, "", nil)
	_, err := s.Pull(context.Background(), ref, anonymous)
	wantDescriptorError(t, s, err, l.blobDigest(), "the blob is gzip")
}

func TestPullStalledRegistry(t *testing.T) {
	big := gzipLayer(t, map[string]string{"noise": randomBytes(t, 256<<10)})
	for _, tc := range []struct {
		name string
		// stall answers the request it stalls, returning false for
		// the others.
		stall func(w http.ResponseWriter, r *http.Request) bool
		what  string
	}{
		{
			// Headers, then not one byte of the blob.
			name: "blob headers then nothing",
			stall: func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+big.blobDigest()) {
					return false
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(big.blob)))
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return true
			},
			what: "blob " + big.blobDigest(),
		},
		{
			// Part of the blob, then nothing.
			name: "blob trickle stops",
			stall: func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+big.blobDigest()) {
					return false
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(big.blob)))
				w.Write(big.blob[:1000])
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return true
			},
			what: "blob " + big.blobDigest(),
		},
		{
			// No response to the manifest request at all.
			name: "manifest never answered",
			stall: func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/manifests/") {
					return false
				}
				<-r.Context().Done()
				return true
			},
			what: "manifest 1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := startRegistry(t)
			ref := reg.push(t, "test/stall:1", testImage(t, "", big))
			reg.intercept = tc.stall
			s := testStore(t, "", nil)
			opt := anonymous
			opt.StallTimeout = 300 * time.Millisecond
			start := time.Now()
			_, err := s.Pull(context.Background(), ref, opt)
			var stall *StallError
			if !errors.As(err, &stall) {
				t.Fatalf("err = %v, want a StallError", err)
			}
			if stall.Host != reg.Host || stall.What != tc.what {
				t.Errorf("StallError names %s and %q, want %s and %q", stall.Host, stall.What, reg.Host, tc.what)
			}
			if !strings.Contains(err.Error(), reg.Host) || !strings.Contains(err.Error(), tc.what) {
				t.Errorf("the error does not name the registry and %s: %v", tc.what, err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("the pull took %s to give up", d)
			}
			assertNoLayerLeft(t, s)
			if _, err := s.Lookup(ref); !errors.Is(err, ErrNotPulled) {
				t.Errorf("Lookup after a stalled pull: err = %v, want ErrNotPulled", err)
			}
		})
	}
}

func TestPullSlowButSteadyIsNoStall(t *testing.T) {
	reg := startRegistry(t)
	l := gzipLayer(t, map[string]string{"noise": randomBytes(t, 64<<10)})
	ref := reg.push(t, "test/slow:1", testImage(t, "", l))
	// The blob comes in eight parts, each within the stall timeout of the
	// last, taking longer than the timeout in all.
	reg.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+l.blobDigest()) {
			return false
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(l.blob)))
		part := len(l.blob)/8 + 1
		for b := l.blob; len(b) > 0; b = b[min(part, len(b)):] {
			w.Write(b[:min(part, len(b))])
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
		return true
	}
	s := testStore(t, "", nil)
	opt := anonymous
	opt.StallTimeout = 400 * time.Millisecond
	if _, err := s.Pull(context.Background(), ref, opt); err != nil {
		t.Fatalf("a slow but steady registry: %v", err)
	}
}

// A registry that stalls while nook export fetches a base blob again
// (FindBlob) ends the read with a StallError, as a pull's would.
func TestFindBlobStalledRegistry(t *testing.T) {
	reg := startRegistry(t)
	l := gzipLayer(t, map[string]string{"noise": randomBytes(t, 64<<10)})
	ref := reg.push(t, "test/found:1", testImage(t, "", l))
	reg.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+l.blobDigest()) {
			return false
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(l.blob)))
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return true
	}
	s := testStore(t, "", nil)
	opt := anonymous
	opt.StallTimeout = 300 * time.Millisecond
	found, err := s.FindBlob(context.Background(), ref, Blob{Digest: l.blobDigest(), Size: int64(len(l.blob))}, opt)
	if err != nil {
		t.Fatalf("FindBlob: %v", err)
	}
	rc, err := found.Open()
	if err == nil {
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
	}
	var stall *StallError
	if !errors.As(err, &stall) {
		t.Fatalf("reading a blob the registry stalls on: %v, want a StallError", err)
	}
}
