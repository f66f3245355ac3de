package layers

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Kind says where an image comes from.
type Kind int

// The kinds of image reference (SPEC §3).
const (
	KindRegistry      Kind = iota + 1 // a registry image: "debian:bookworm", "ghcr.io/o/r@sha256:…"
	KindOCILayout                     // "oci:PATH[:TAG]", an OCI image layout directory
	KindDockerArchive                 // "docker-archive:PATH", a `docker save` tarball
	KindHost                          // "host", the host's own root filesystem
)

// Reference prefixes and the host base, as written in nook.toml.
const (
	ociPrefix     = "oci:"
	archivePrefix = "docker-archive:"
	hostRef       = "host"
)

// String names the kind for messages.
func (k Kind) String() string {
	switch k {
	case KindRegistry:
		return "registry"
	case KindOCILayout:
		return "oci"
	case KindDockerArchive:
		return "docker-archive"
	case KindHost:
		return "host"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Reference is a parsed image reference.
type Reference struct {
	Kind Kind
	// Name is the registry reference (KindRegistry): a name.Tag or a
	// name.Digest, with Docker Hub's defaults filled in.
	Name name.Reference
	// Path is the absolute path of the layout directory (KindOCILayout) or of
	// the tarball (KindDockerArchive).
	Path string
	// Tag selects an image of an OCI layout by its
	// org.opencontainers.image.ref.name annotation; "" takes the only image.
	Tag string
}

// String returns the canonical form of the reference: Docker Hub names in
// full ("index.docker.io/library/debian:bookworm"), layout and archive paths
// absolute. Two references with the same canonical form name the same image.
func (r Reference) String() string {
	switch r.Kind {
	case KindRegistry:
		return r.Name.Name()
	case KindOCILayout:
		if r.Tag != "" {
			return ociPrefix + r.Path + ":" + r.Tag
		}
		return ociPrefix + r.Path
	case KindDockerArchive:
		return archivePrefix + r.Path
	case KindHost:
		return hostRef
	}
	return ""
}

// ParseReference classifies an image reference as written in nook.toml:
// "host", "oci:PATH[:TAG]", "docker-archive:PATH", or a registry reference,
// where short names mean Docker Hub ("debian" is
// "index.docker.io/library/debian:latest"). Relative paths are made absolute
// against the working directory.
func ParseReference(s string) (Reference, error) {
	switch {
	case s == hostRef:
		return Reference{Kind: KindHost}, nil
	case strings.HasPrefix(s, ociPrefix):
		p, tag := splitLayoutTag(strings.TrimPrefix(s, ociPrefix))
		if p == "" {
			return Reference{}, refError(s, "no layout directory after \"oci:\"", "write oci:PATH or oci:PATH:TAG, e.g. oci:./image:latest")
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return Reference{}, fmt.Errorf("parsing image reference %q: %w", s, err)
		}
		return Reference{Kind: KindOCILayout, Path: abs, Tag: tag}, nil
	case strings.HasPrefix(s, archivePrefix):
		p := strings.TrimPrefix(s, archivePrefix)
		if p == "" {
			return Reference{}, refError(s, "no tarball path after \"docker-archive:\"", "write docker-archive:PATH, e.g. docker-archive:./image.tar")
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return Reference{}, fmt.Errorf("parsing image reference %q: %w", s, err)
		}
		return Reference{Kind: KindDockerArchive, Path: abs}, nil
	}
	if s == "" {
		return Reference{}, refError(s, "empty reference", "set image in nook.toml, e.g. image = \"debian:bookworm\"")
	}
	n, err := name.ParseReference(s)
	if err != nil {
		return Reference{}, refError(s, err.Error(),
			"write a registry reference (debian:bookworm, ghcr.io/owner/repo:tag, repo@sha256:…), oci:PATH[:TAG], docker-archive:PATH or host")
	}
	return Reference{Kind: KindRegistry, Name: n}, nil
}

// splitLayoutTag splits "PATH[:TAG]": a tag is what follows the last colon
// when no slash follows it, so "dir:v1" has tag "v1" and "a:b/c" has none.
func splitLayoutTag(s string) (path, tag string) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.ContainsRune(s[i+1:], '/') {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// refError is a malformed image reference.
func refError(ref, what, hint string) error {
	return &hintError{err: fmt.Errorf("parsing image reference %q: %s", ref, what), hint: hint}
}
