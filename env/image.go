package env

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Image forms other than a registry reference (SPEC §3).
const (
	ImageHost           = "host"            // the host's root filesystem, read-only
	ImageOCIPrefix      = "oci:"            // oci:PATH[:TAG], an OCI image layout directory
	ImageArchivePrefix  = "docker-archive:" // docker-archive:PATH, a `docker save` tarball
	imageExampleRef     = "debian:bookworm"
	imageFormsForHumans = "host, oci:PATH[:TAG], docker-archive:PATH or a registry reference such as " + imageExampleRef
)

// checkImage validates an image reference in any of the forms of SPEC §3.
func checkImage(ref string) error {
	switch {
	case ref == ImageHost:
		return nil
	case strings.HasPrefix(ref, ImageOCIPrefix):
		if strings.TrimPrefix(ref, ImageOCIPrefix) == "" || strings.HasPrefix(ref, ImageOCIPrefix+":") {
			return badSpec(`e.g. "oci:./image:latest"`, "%q names no OCI layout directory; expected oci:PATH[:TAG]", ref)
		}
		return nil
	case strings.HasPrefix(ref, ImageArchivePrefix):
		if strings.TrimPrefix(ref, ImageArchivePrefix) == "" {
			return badSpec(`e.g. "docker-archive:./image.tar"`, "%q names no archive; expected docker-archive:PATH", ref)
		}
		return nil
	case strings.Contains(ref, "://"):
		return badSpec("write the reference without a scheme; for a plain-HTTP registry set insecure = true in the user config",
			"%q is not an image reference: it has a URL scheme", ref)
	}
	if _, err := name.ParseReference(ref); err != nil {
		hint := ""
		if lower := strings.ToLower(ref); lower != ref {
			hint = "repository names are lowercase"
		}
		return badSpec(hint, "%q is not an image reference; expected %s", ref, imageFormsForHumans)
	}
	return nil
}
