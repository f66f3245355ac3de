package layers

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

// Fixtures for the pull tests: small images built in memory, an in-process
// registry, and a store whose unpacks are counted and whose registry traffic
// cannot leave loopback.

// layerTar returns an uncompressed layer holding the given files, name to
// content, at the top level.
func layerTar(files map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names) // equal maps make equal layers
	for _, n := range names {
		body := files[n]
		tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body)), ModTime: mtime})
		tw.Write([]byte(body))
	}
	tw.Close()
	return buf.Bytes()
}

// memLayer is a layer with a fixed blob and DiffID, so tests can make
// layers whose DiffID lies.
type memLayer struct {
	blob   []byte
	tar    []byte
	diffID v1.Hash
	mt     types.MediaType
}

func (l *memLayer) Digest() (v1.Hash, error) { return sha256Of(l.blob), nil }
func (l *memLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *memLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}
func (l *memLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.tar)), nil
}
func (l *memLayer) Size() (int64, error)                { return int64(len(l.blob)), nil }
func (l *memLayer) MediaType() (types.MediaType, error) { return l.mt, nil }

// blobDigest is the digest of the layer's blob, as a registry names it.
func (l *memLayer) blobDigest() string { return sha256Of(l.blob).String() }

func sha256Of(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// gzipLayer is a gzip-compressed layer of the given files.
func gzipLayer(t *testing.T, files map[string]string) *memLayer {
	t.Helper()
	tb := layerTar(files)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(tb)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return &memLayer{blob: buf.Bytes(), tar: tb, diffID: sha256Of(tb), mt: types.OCILayer}
}

// zstdLayer is a zstd-compressed layer of the given files.
func zstdLayer(t *testing.T, files map[string]string) *memLayer {
	t.Helper()
	tb := layerTar(files)
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	blob := zw.EncodeAll(tb, nil)
	zw.Close()
	return &memLayer{blob: blob, tar: tb, diffID: sha256Of(tb), mt: types.OCILayerZStd}
}

// testImage stacks layers into an OCI image for platform ("linux/amd64";
// "" is the host's) whose config sets an environment and a command.
func testImage(t *testing.T, platform string, layers ...v1.Layer) v1.Image {
	t.Helper()
	p := hostPlatform()
	if platform != "" {
		pp, err := v1.ParsePlatform(platform)
		if err != nil {
			t.Fatal(err)
		}
		p = *pp
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Config.Env = []string{"PATH=/usr/bin:/bin", "IMAGE=test"}
	cf.Config.Cmd = []string{"/bin/sh"}
	cf.Config.WorkingDir = "/work"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// imageDigest is img's manifest digest.
func imageDigest(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// testRegistry is an in-process registry; requests counts what it served.
type testRegistry struct {
	*httptest.Server
	Host     string
	requests atomic.Int64
	// intercept, when set, may answer a request instead of the registry
	// (returning true).
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

// startRegistry starts a registry on 127.0.0.1, closed when the test ends.
func startRegistry(t *testing.T) *testRegistry {
	return startRegistryOn(t, "127.0.0.1:0")
}

// startRegistryOn starts a registry listening on addr.
func startRegistryOn(t *testing.T, addr string) *testRegistry {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	tr := &testRegistry{}
	tr.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.requests.Add(1)
		if tr.intercept != nil && tr.intercept(w, r) {
			return
		}
		reg.ServeHTTP(w, r)
	}))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	tr.Server.Listener = l
	tr.Start()
	tr.Host = strings.TrimPrefix(tr.URL, "http://")
	t.Cleanup(tr.Close)
	return tr
}

// push stores img in the registry at repo:tag and returns the reference.
func (tr *testRegistry) push(t *testing.T, repo string, img v1.Image) string {
	t.Helper()
	ref := tr.Host + "/" + repo
	n, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(n, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return ref
}

// pushIndex stores idx in the registry at repo:tag and returns the reference.
func (tr *testRegistry) pushIndex(t *testing.T, repo string, idx v1.ImageIndex) string {
	t.Helper()
	ref := tr.Host + "/" + repo
	n, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(n, idx); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return ref
}

// loopbackOnly carries registry traffic to loopback addresses only, so that
// a test that goes wrong fails instead of reaching the internet.
type loopbackOnly struct{ http.RoundTripper }

func (l loopbackOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	ip := net.ParseIP(req.URL.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test transport: refusing to reach %s", req.URL.Host)
	}
	return l.RoundTripper.RoundTrip(req)
}

// unpackCounter counts the layers unpacked by the stores that share it.
type unpackCounter struct{ calls atomic.Int64 }

// testStore opens a store in a fresh directory whose registry traffic stays
// on loopback and whose unpacks are counted by c (when not nil).
func testStore(t *testing.T, root string, c *unpackCounter) *Store {
	t.Helper()
	if root == "" {
		root = filepath.Join(t.TempDir(), "store")
	}
	s, err := OpenStore(root)
	if err != nil {
		t.Fatal(err)
	}
	s.transport = loopbackOnly{http.DefaultTransport}
	if c != nil {
		s.unpack = func(r io.Reader, dir string) (Unpacked, error) {
			c.calls.Add(1)
			return Unpack(r, dir)
		}
	}
	return s
}

// count returns the number of unpacks so far.
func (c *unpackCounter) count() int { return int(c.calls.Load()) }

// readLowerFile returns the content of name in the snapshot's layers, the
// topmost layer that has it winning.
func readLowerFile(t *testing.T, snap *Snapshot, name string) string {
	t.Helper()
	for i := len(snap.Lowers) - 1; i >= 0; i-- {
		b, err := os.ReadFile(filepath.Join(snap.Lowers[i], name))
		if err == nil {
			return string(b)
		}
	}
	t.Fatalf("%s is in none of the layers %v", name, snap.Lowers)
	return ""
}

// dirEntries lists a store subdirectory.
func dirEntries(t *testing.T, s *Store, sub string) []string {
	t.Helper()
	des, err := os.ReadDir(s.path(sub))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// assertNoLayerLeft fails unless layers/ and tmp/ are empty.
func assertNoLayerLeft(t *testing.T, s *Store) {
	t.Helper()
	if got := dirEntries(t, s, layersDir); len(got) != 0 {
		t.Errorf("layers/ holds %v after a failed pull", got)
	}
	if got := dirEntries(t, s, tmpDir); len(got) != 0 {
		t.Errorf("tmp/ holds %v after a failed pull", got)
	}
}

// randomBytes returns n incompressible bytes.
func randomBytes(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
