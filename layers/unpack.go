package layers

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
)

// Unpack extracts the uncompressed tar stream r (one OCI/Docker layer) into
// dir, an existing empty directory made for this layer alone. It never
// creates, changes or follows anything outside dir. It reads r to EOF (the
// caller hashes the stream for the DiffID). On error dir is left for the
// caller to remove.
//
// The layer is written as overlayfs with the userxattr mount option reads
// it: OCI whiteout files become 0/0 character devices and opaque-directory
// markers become the user.overlay.opaque xattr. Ownership in the headers is
// ignored: every file belongs to the unpacking user. Character and block
// devices are skipped, never created, and reported in Unpacked: images made
// by mmdebstrap, debootstrap or `docker import` carry /dev/*, and a run gets
// nook's own /dev (rootless Podman skips them too). Entries that could
// escape dir (absolute names, ".." components, hard links to anything but an
// earlier file of the layer) and unknown entry types are refused with an
// *EntryError wrapping ErrUnsafeEntry; the whole unpack fails.
func Unpack(r io.Reader, dir string) (Unpacked, error) {
	return unpack(r, dir)
}

// Unpacked is what Unpack tells about a layer besides its files.
type Unpacked struct {
	// Devices counts the character and block devices skipped.
	Devices int
	// DeviceNames are the first few of them, as clean paths ("dev/null").
	DeviceNames []string
}

// maxDeviceNames bounds Unpacked.DeviceNames.
const maxDeviceNames = 3

// skipDevice counts a device entry that is not created.
func (u *Unpacked) skipDevice(name string) {
	u.Devices++
	if len(u.DeviceNames) < maxDeviceNames {
		u.DeviceNames = append(u.DeviceNames, name)
	}
}

// ErrUnsafeEntry is wrapped by the *EntryError of an entry that Unpack
// refuses: a name or link leaving the layer, an unknown type.
var ErrUnsafeEntry = errors.New("refused")

// EntryError reports a layer entry that could not be unpacked.
type EntryError struct {
	Name string // the entry's name as the tar stream wrote it
	Op   string // what failed, e.g. "creating file"; empty for a refusal
	Err  error
}

// Error names the entry, what failed and why.
func (e *EntryError) Error() string {
	if e.Op == "" {
		return fmt.Sprintf("layer entry %q: %v", e.Name, e.Err)
	}
	return fmt.Sprintf("layer entry %q: %s: %v", e.Name, e.Op, e.Err)
}

// Unwrap returns the cause: ErrUnsafeEntry for a refusal, else usually a
// syscall.Errno.
func (e *EntryError) Unwrap() error { return e.Err }

// Hint says how to get past the failure, where that is known; "" otherwise.
func (e *EntryError) Hint() string {
	switch {
	case errors.Is(e.Err, ErrUnsafeEntry):
		return "the image's layer holds an entry that could reach outside the layer, which no image needs: use another image, or rebuild this one without that entry"
	case errors.Is(e.Err, syscall.ENOSYS):
		return "nook needs Linux 5.6 or newer (openat2) to unpack layers safely; check uname -r, or a seccomp filter that blocks openat2"
	case errors.Is(e.Err, syscall.ENOSPC), errors.Is(e.Err, syscall.EDQUOT):
		return "the filesystem holding nook's store (NOOK_HOME) is full: free space there, or move NOOK_HOME"
	case strings.HasPrefix(e.Op, "setting xattr") || strings.HasPrefix(e.Op, "setting "+overlayOpaqueXattr):
		if errors.Is(e.Err, syscall.ENOTSUP) || errors.Is(e.Err, syscall.EOPNOTSUPP) {
			return "the filesystem holding nook's store (NOOK_HOME) has no user extended attributes, which overlayfs needs for opaque directories: move NOOK_HOME to ext4, xfs, btrfs or tmpfs"
		}
	case strings.HasPrefix(e.Op, "creating whiteout") && errors.Is(e.Err, syscall.EPERM):
		return "unprivileged users may create overlay whiteouts (0/0 character devices) since Linux 5.8; check uname -r"
	}
	return ""
}

// refuse returns the error for an entry Unpack will not write.
func refuse(hdr *tar.Header, reason string) error {
	return &EntryError{Name: hdr.Name, Err: fmt.Errorf("%w: %s", ErrUnsafeEntry, reason)}
}

// entryError returns the error for a system call that failed on an entry.
func entryError(hdr *tar.Header, op string, err error) error {
	return &EntryError{Name: hdr.Name, Op: op, Err: err}
}

// Reasons a name is refused.
var (
	errAbsoluteName = errors.New("absolute name")
	errDotDotName   = errors.New(`name has a ".." component`)
	errEmptyName    = errors.New("empty name")
)

// cleanName turns a tar entry name into a relative path with no empty, "."
// or ".." components and no trailing slash: "./usr//bin/" is "usr/bin" and
// "./" is "", the layer root. Absolute names and names with a ".."
// component are errors. A name that is already clean is returned without
// allocating.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", errEmptyName
	}
	if name[0] == '/' {
		return "", errAbsoluteName
	}
	simple := true
	for rest := name; rest != ""; {
		comp, tail, _ := strings.Cut(rest, "/")
		switch comp {
		case "..":
			return "", errDotDotName
		case ".":
			simple = false
		case "":
			simple = false // "a//b" or "a//"
		}
		rest = tail
	}
	if simple {
		return strings.TrimSuffix(name, "/"), nil
	}
	var b strings.Builder
	b.Grow(len(name))
	for rest := name; rest != ""; {
		comp, tail, _ := strings.Cut(rest, "/")
		if comp != "" && comp != "." {
			if b.Len() > 0 {
				b.WriteByte('/')
			}
			b.WriteString(comp)
		}
		rest = tail
	}
	return b.String(), nil
}

// splitName splits a clean name into its parent ("" for the layer root) and
// its last component.
func splitName(name string) (parent, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

// xattrPrefix marks a PAX record that carries an extended attribute.
const xattrPrefix = "SCHILY.xattr."

// keepXattr reports whether Unpack sets the extended attribute name from a
// layer: only user.* attributes, and not user.overlay.*, which would let a
// layer forge overlayfs metadata (opaque dirs, redirects) under userxattr.
// trusted.* and security.* (capabilities, SELinux labels) are never set: an
// unprivileged user cannot, and a layer must not grant file capabilities.
func keepXattr(name string) bool {
	return strings.HasPrefix(name, "user.") && !strings.HasPrefix(name, "user.overlay.")
}

// hasKeptXattrs reports whether hdr carries an extended attribute that
// Unpack sets.
func hasKeptXattrs(hdr *tar.Header) bool {
	for key := range hdr.PAXRecords {
		if strings.HasPrefix(key, xattrPrefix) && keepXattr(key[len(xattrPrefix):]) {
			return true
		}
	}
	return false
}
