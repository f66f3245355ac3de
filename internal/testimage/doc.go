// Package testimage builds small, real OCI images for nook's tests from the
// host's static busybox (Debian's busybox-static), and hostile images whose
// layers try to write outside the store. It serves them from an in-process
// registry, an OCI layout or a docker archive, so no test touches the
// internet.
package testimage
