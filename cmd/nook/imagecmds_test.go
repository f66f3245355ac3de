package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookenv/nook/internal/testimage"
)

// The fixtures of the scripts about real images and their sources.
func init() {
	for n, f := range imageCommands {
		scriptCommands[n] = f
	}
}

var imageCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// opaqueimage REPO:TAG: push testimage.OpaqueRoot (a layer with an
	// opaque whiteout at its root over the busybox layer) to $REGISTRY.
	"opaqueimage": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: opaqueimage REPO:TAG")
		}
		img, err := testimage.OpaqueRoot()
		ts.Check(err)
		push(ts, args[0], img)
	},
	// lielayout DIR HOW: make the descriptor of the top layer of the only
	// image in the OCI layout DIR lie — HOW is size-1 (size -1), size1000
	// (1000 times the size), zstd (a gzip blob labelled zstd) or evil
	// (media type application/x-evil) — and set $LIEBLOB to the blob's
	// digest.
	"lielayout": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: lielayout DIR size-1|size1000|zstd|evil")
		}
		dir := ts.MkAbs(args[0])
		var idx v1.IndexManifest
		readJSON(ts, filepath.Join(dir, "index.json"), &idx)
		var m v1.Manifest
		readJSON(ts, filepath.Join(dir, "blobs", "sha256", idx.Manifests[0].Digest.Hex), &m)
		top := &m.Layers[len(m.Layers)-1]
		switch args[1] {
		case "size-1":
			top.Size = -1
		case "size1000":
			top.Size *= 1000
		case "zstd":
			top.MediaType = types.OCILayerZStd
		case "evil":
			top.MediaType = "application/x-evil"
		default:
			ts.Fatalf("lielayout: unknown lie %q", args[1])
		}
		raw, err := json.Marshal(&m)
		ts.Check(err)
		d, size, err := v1.SHA256(strings.NewReader(string(raw)))
		ts.Check(err)
		ts.Check(os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Hex), raw, 0o644))
		idx.Manifests[0].Digest, idx.Manifests[0].Size = d, size
		raw, err = json.Marshal(&idx)
		ts.Check(err)
		ts.Check(os.WriteFile(filepath.Join(dir, "index.json"), raw, 0o644))
		ts.Setenv("LIEBLOB", top.Digest.String())
	},
	// stallregistry: serve the test busybox image as test/busybox:latest
	// from a registry that sends the headers of every layer blob and then
	// nothing, until the client goes away; set $STALLREGISTRY to its
	// host:port.
	"stallregistry": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: stallregistry")
		}
		img, err := testimage.Busybox()
		ts.Check(err)
		layers, err := img.Layers()
		ts.Check(err)
		sizes := map[string]int64{} // of the layer blobs, by path suffix
		for _, l := range layers {
			d, err := l.Digest()
			ts.Check(err)
			size, err := l.Size()
			ts.Check(err)
			sizes["/blobs/"+d.String()] = size
		}
		reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
		var stalling atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var size int64
			layer := false
			if i := strings.LastIndex(r.URL.Path, "/blobs/"); i >= 0 {
				size, layer = sizes[r.URL.Path[i:]]
			}
			if stalling.Load() && r.Method == http.MethodGet && layer {
				w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return
			}
			reg.ServeHTTP(w, r)
		}))
		ts.Defer(srv.Close)
		host := strings.TrimPrefix(srv.URL, "http://")
		ref, err := name.ParseReference(host + "/test/busybox:latest")
		ts.Check(err)
		ts.Check(remote.Write(ref, img))
		stalling.Store(true)
		ts.Setenv("STALLREGISTRY", host)
	},
	// replace FILE REGEXP REPLACEMENT: replace every match in FILE
	// ($1 and ${name} expand as in regexp.Expand).
	"replace": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 3 {
			ts.Fatalf("usage: replace FILE REGEXP REPLACEMENT")
		}
		re, err := regexp.Compile(args[1])
		ts.Check(err)
		path := ts.MkAbs(args[0])
		data, err := os.ReadFile(path)
		ts.Check(err)
		out := re.ReplaceAll(data, []byte(args[2]))
		if string(out) == string(data) {
			ts.Fatalf("replace: %q matches nothing in %s", args[1], args[0])
		}
		ts.Check(os.WriteFile(path, out, 0o644))
	},
	// withoutpath PROGRAM: drop from $PATH every directory that holds
	// PROGRAM.
	"withoutpath": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: withoutpath PROGRAM")
		}
		var keep []string
		for _, d := range filepath.SplitList(ts.Getenv("PATH")) {
			if _, err := os.Stat(filepath.Join(d, args[0])); err != nil {
				keep = append(keep, d)
			}
		}
		ts.Setenv("PATH", strings.Join(keep, string(filepath.ListSeparator)))
	},
}

// readJSON decodes the JSON file at path into v.
func readJSON(ts *testscript.TestScript, path string, v any) {
	data, err := os.ReadFile(path)
	ts.Check(err)
	ts.Check(json.Unmarshal(data, v))
}
