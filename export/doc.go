// Package export exports a project: the environments its roles run in as
// OCI images (an OCI layout, a docker archive, a registry push), and its
// roles as Kubernetes manifests and a Compose file. nook-manifests (package
// manifests, a program of its own) writes those two from the workload
// export hands it (package workload).
package export
