package layers

import "strings"

// OCI whiteout names (image-spec layer.md, "Whiteouts").
const (
	// whiteoutPrefix starts the name of a whiteout file: ".wh.NAME" hides
	// NAME of the layers below.
	whiteoutPrefix = ".wh."
	// whiteoutMetaPrefix starts aufs metadata names (".wh..wh.plnk", …),
	// which are not whiteouts and are skipped.
	whiteoutMetaPrefix = ".wh..wh."
	// whiteoutOpaque, in a directory, hides everything the layers below
	// hold in that directory.
	whiteoutOpaque = ".wh..wh..opq"
)

// overlayOpaqueXattr marks an opaque directory for overlayfs mounted with
// the userxattr option (Linux 5.11 and later): an unprivileged mount reads
// user.overlay.* instead of trusted.overlay.*.
const overlayOpaqueXattr = "user.overlay.opaque"

// whiteoutKind says what a base name means to the whiteout rules.
type whiteoutKind int

const (
	notWhiteout    whiteoutKind = iota
	whiteoutFile                // ".wh.NAME": hide NAME
	whiteoutDir                 // ".wh..wh..opq": the parent directory is opaque
	whiteoutIgnore              // other ".wh..wh.*" names: aufs metadata
)

// parseWhiteout classifies base, the last component of an entry's name, and
// for a whiteout file returns the name it hides. hidden is "", "." or ".."
// only for malformed names, which the caller refuses.
func parseWhiteout(base string) (kind whiteoutKind, hidden string) {
	switch {
	case !strings.HasPrefix(base, whiteoutPrefix):
		return notWhiteout, ""
	case base == whiteoutOpaque:
		return whiteoutDir, ""
	case strings.HasPrefix(base, whiteoutMetaPrefix):
		return whiteoutIgnore, ""
	}
	return whiteoutFile, base[len(whiteoutPrefix):]
}
