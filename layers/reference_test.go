package layers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseReference(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		in   string
		kind Kind
		want string // canonical form
		path string
		tag  string
	}{
		{in: "debian:bookworm", kind: KindRegistry, want: "index.docker.io/library/debian:bookworm"},
		{in: "debian", kind: KindRegistry, want: "index.docker.io/library/debian:latest"},
		{in: "docker.io/library/debian:bookworm", kind: KindRegistry, want: "index.docker.io/library/debian:bookworm"},
		{in: "someone/tool:1.2", kind: KindRegistry, want: "index.docker.io/someone/tool:1.2"},
		{in: "ghcr.io/o/r@" + digest, kind: KindRegistry, want: "ghcr.io/o/r@" + digest},
		{in: "localhost:5000/team/app", kind: KindRegistry, want: "localhost:5000/team/app:latest"},
		{in: "127.0.0.1:5000/a/b/c:t", kind: KindRegistry, want: "127.0.0.1:5000/a/b/c:t"},
		{in: "oci:/images/app", kind: KindOCILayout, want: "oci:/images/app", path: "/images/app"},
		{in: "oci:/images/app:v1", kind: KindOCILayout, want: "oci:/images/app:v1", path: "/images/app", tag: "v1"},
		{in: "oci:/images/a:b/app", kind: KindOCILayout, want: "oci:/images/a:b/app", path: "/images/a:b/app"},
		{in: "oci:image:latest", kind: KindOCILayout, want: "oci:" + filepath.Join(cwd, "image") + ":latest", path: filepath.Join(cwd, "image"), tag: "latest"},
		{in: "docker-archive:/tmp/x.tar", kind: KindDockerArchive, want: "docker-archive:/tmp/x.tar", path: "/tmp/x.tar"},
		{in: "docker-archive:x.tar", kind: KindDockerArchive, want: "docker-archive:" + filepath.Join(cwd, "x.tar"), path: filepath.Join(cwd, "x.tar")},
		{in: "host", kind: KindHost, want: "host"},
	}
	for _, tt := range tests {
		r, err := ParseReference(tt.in)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", tt.in, err)
			continue
		}
		if r.Kind != tt.kind || r.String() != tt.want || r.Path != tt.path || r.Tag != tt.tag {
			t.Errorf("ParseReference(%q) = %v %q path %q tag %q, want %v %q path %q tag %q",
				tt.in, r.Kind, r.String(), r.Path, r.Tag, tt.kind, tt.want, tt.path, tt.tag)
		}
	}
}

func TestParseReferenceErrors(t *testing.T) {
	for _, in := range []string{"", "oci:", "docker-archive:", "Debian:bookworm", "http://example.com/app", "a b", "debian@sha256:short"} {
		_, err := ParseReference(in)
		if err == nil {
			t.Errorf("ParseReference(%q) succeeded", in)
			continue
		}
		if hintOf(err) == "" {
			t.Errorf("ParseReference(%q): error without a hint: %v", in, err)
		}
	}
}
