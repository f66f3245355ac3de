package layers

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// writeLayout writes an OCI layout at dir holding each image under its tag
// ("" for no ref.name annotation).
func writeLayout(t *testing.T, dir string, images map[string]v1.Image) layout.Path {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for tag, img := range images {
		var opts []layout.Option
		if tag != "" {
			opts = append(opts, layout.WithAnnotations(map[string]string{refNameAnnotation: tag}))
		}
		if err := p.AppendImage(img, opts...); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// later sets path's modification time an hour ahead, as a source
// re-exported some time after the first import would have.
func later(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	mtime := fi.ModTime().Add(time.Hour)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestOCILayoutByTag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	one := testImage(t, "", gzipLayer(t, map[string]string{"v": "one\n"}))
	two := testImage(t, "", zstdLayer(t, map[string]string{"v": "two\n"}))
	writeLayout(t, dir, map[string]v1.Image{"v1": one, "v2": two})
	s := testStore(t, "", nil)

	for ref, want := range map[string]string{"oci:" + dir + ":v1": "one\n", "oci:" + dir + ":v2": "two\n"} {
		snap, err := s.Pull(context.Background(), ref, PullOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := readLowerFile(t, snap, "v"); got != want {
			t.Errorf("%s: v = %q, want %q", ref, got, want)
		}
		if _, err := s.Lookup(ref); err != nil {
			t.Errorf("Lookup(%s): %v", ref, err)
		}
	}
	_, err := s.Pull(context.Background(), "oci:"+dir, PullOptions{})
	if err == nil || !strings.Contains(hintOf(err), "v1") {
		t.Errorf("pull of a two-image layout without a tag: err = %v, hint %q; want an error whose hint lists the tags", err, hintOf(err))
	}
	_, err = s.Pull(context.Background(), "oci:"+dir+":v3", PullOptions{})
	if err == nil || !strings.Contains(err.Error(), `"v3"`) {
		t.Errorf("pull of a missing tag: err = %v", err)
	}
}

func TestOCILayoutOnlyImage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	img := testImage(t, "", gzipLayer(t, map[string]string{"only": "yes\n"}))
	writeLayout(t, dir, map[string]v1.Image{"": img})
	s := testStore(t, "", nil)
	snap, err := s.Pull(context.Background(), "oci:"+dir, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Digest != imageDigest(t, img) {
		t.Errorf("Digest = %s, want %s", snap.Digest, imageDigest(t, img))
	}
	if got := readLowerFile(t, snap, "only"); got != "yes\n" {
		t.Errorf("only = %q", got)
	}
}

func TestOCILayoutIndexPicksPlatform(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	host := hostPlatform()
	other := v1.Platform{OS: "linux", Architecture: "s390x"}
	if host.Architecture == other.Architecture {
		other.Architecture = "ppc64le"
	}
	var idx v1.ImageIndex = empty.Index
	for _, p := range []v1.Platform{other, host} {
		img := testImage(t, p.String(), gzipLayer(t, map[string]string{"arch": p.String()}))
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	p := writeLayout(t, dir, nil)
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameAnnotation: "multi"})); err != nil {
		t.Fatal(err)
	}
	s := testStore(t, "", nil)
	snap, err := s.Pull(context.Background(), "oci:"+dir+":multi", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "arch"); got != host.String() {
		t.Errorf("pulled the %s image, want the host's %s", got, host)
	}
}

func TestOCILayoutReimportedWhenChanged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	ref := "oci:" + dir + ":app"
	p := writeLayout(t, dir, map[string]v1.Image{"app": testImage(t, "", gzipLayer(t, map[string]string{"v": "old\n"}))})
	s := testStore(t, "", nil)
	if _, err := s.Pull(context.Background(), ref, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ref); err != nil {
		t.Fatalf("Lookup of an unchanged layout: %v", err)
	}

	newer := testImage(t, "", gzipLayer(t, map[string]string{"v": "new\n"}))
	if err := p.ReplaceImage(newer, match.Annotation(refNameAnnotation, "app"), layout.WithAnnotations(map[string]string{refNameAnnotation: "app"})); err != nil {
		t.Fatal(err)
	}
	later(t, filepath.Join(dir, "index.json"))
	if _, err := s.Lookup(ref); !errors.Is(err, ErrNotPulled) {
		t.Fatalf("Lookup after the layout changed: err = %v, want ErrNotPulled", err)
	}
	snap, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "v"); got != "new\n" {
		t.Errorf("re-import gave v = %q, want the new image's", got)
	}
	if snap, err = s.Lookup(ref); err != nil || snap.Digest != imageDigest(t, newer) {
		t.Errorf("Lookup after re-import: %v, %v", snap, err)
	}
}

func TestOCILayoutCorruptedBlob(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	l := gzipLayer(t, map[string]string{"f": "content\n"})
	writeLayout(t, dir, map[string]v1.Image{"": testImage(t, "", l)})
	// Other bytes that still decompress to the same tar: the gzip
	// header's OS byte differs. Only the blob digest can tell.
	blob := filepath.Join(dir, "blobs", "sha256", sha256Of(l.blob).Hex)
	corrupted := slices.Clone(l.blob)
	corrupted[9] ^= 0xff
	if err := os.WriteFile(blob, corrupted, 0o644); err != nil {
		t.Fatal(err)
	}
	s := testStore(t, "", nil)
	_, err := s.Pull(context.Background(), "oci:"+dir, PullOptions{})
	var de *DigestError
	if !errors.As(err, &de) || de.What != "blob" {
		t.Fatalf("err = %v, want a blob DigestError", err)
	}
	assertNoLayerLeft(t, s)
}

func TestOCILayoutMissing(t *testing.T) {
	s := testStore(t, "", nil)
	_, err := s.Pull(context.Background(), "oci:"+filepath.Join(t.TempDir(), "nothing"), PullOptions{})
	if err == nil || !strings.Contains(hintOf(err), "index.json") {
		t.Errorf("pull of a missing layout: err = %v, hint %q", err, hintOf(err))
	}
}

func TestDockerArchive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "image.tar")
	img := testImage(t, "",
		gzipLayer(t, map[string]string{"a": "a\n"}),
		gzipLayer(t, map[string]string{"b": "b\n"}))
	if err := tarball.WriteToFile(path, name.MustParseReference("example.com/app:1"), img); err != nil {
		t.Fatal(err)
	}
	ref := "docker-archive:" + path
	s := testStore(t, "", nil)
	snap, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := img.ConfigName()
	if snap.Digest != id.String() {
		t.Errorf("Digest = %s, want the image ID %s", snap.Digest, id)
	}
	if readLowerFile(t, snap, "a") != "a\n" || readLowerFile(t, snap, "b") != "b\n" {
		t.Errorf("wrong layer content")
	}
	if snap.Config.WorkingDir != "/work" {
		t.Errorf("Config = %+v", snap.Config)
	}
	if _, err := s.Lookup(ref); err != nil {
		t.Errorf("Lookup: %v", err)
	}
}

// writeDockerSave writes a tarball as `docker save` does: each layer an
// uncompressed layer.tar in a directory of its own, the config, and
// manifest.json last.
func writeDockerSave(t *testing.T, path string, layerTars [][]byte, cf *v1.ConfigFile) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	cf = cf.DeepCopy()
	cf.RootFS = v1.RootFS{Type: "layers"}
	var paths []string
	for i, lt := range layerTars {
		p := filepath.Join(string(rune('a'+i))+strings.Repeat("0", 63), "layer.tar")
		add(p, lt)
		paths = append(paths, p)
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, sha256Of(lt))
	}
	cfg, err := json.Marshal(cf)
	if err != nil {
		t.Fatal(err)
	}
	cfgName := sha256Of(cfg).Hex + ".json"
	add(cfgName, cfg)
	manifest, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"app:1"}, "Layers": paths}})
	add("manifest.json", manifest)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDockerSaveArchiveReimportedWhenChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "saved.tar")
	ref := "docker-archive:" + path
	cf := &v1.ConfigFile{OS: "linux", Architecture: hostPlatform().Architecture, Config: v1.Config{Env: []string{"A=1"}}}
	writeDockerSave(t, path, [][]byte{layerTar(map[string]string{"v": "old\n"})}, cf)
	var c unpackCounter
	s := testStore(t, "", &c)
	snap, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "v"); got != "old\n" {
		t.Errorf("v = %q", got)
	}
	if !slices.Equal(snap.Config.Env, []string{"A=1"}) {
		t.Errorf("Env = %v", snap.Config.Env)
	}

	writeDockerSave(t, path, [][]byte{
		layerTar(map[string]string{"v": "old\n"}),
		layerTar(map[string]string{"v": "new\n"}),
	}, cf)
	later(t, path)
	if _, err := s.Lookup(ref); !errors.Is(err, ErrNotPulled) {
		t.Fatalf("Lookup after the archive changed: err = %v, want ErrNotPulled", err)
	}
	if snap, err = s.Pull(context.Background(), ref, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "v"); got != "new\n" {
		t.Errorf("re-import gave v = %q, want the new image's", got)
	}
	if c.count() != 2 {
		t.Errorf("unpacked %d layers, want 2: the unchanged one is kept", c.count())
	}

	// The imported image outlives its tarball.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ref); err != nil {
		t.Errorf("Lookup after the archive was removed: %v", err)
	}
}

func TestDockerArchiveDiffIDMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "saved.tar")
	lt := layerTar(map[string]string{"v": "x\n"})
	cf := &v1.ConfigFile{OS: "linux", Architecture: hostPlatform().Architecture}
	writeDockerSave(t, path, [][]byte{lt}, cf)
	// Tamper with the layer inside the archive, keeping its size.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("x\n"))
	b[i] = 'y'
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s := testStore(t, "", nil)
	_, err = s.Pull(context.Background(), "docker-archive:"+path, PullOptions{})
	var de *DigestError
	if !errors.As(err, &de) || de.What != "DiffID" {
		t.Fatalf("err = %v, want a DiffID DigestError", err)
	}
	assertNoLayerLeft(t, s)
}
