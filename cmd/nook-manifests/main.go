// Command nook-manifests writes the Kubernetes manifests and the Compose
// file of `nook export --k8s` and `--compose`. nook starts it; it is not a
// command of its own. It is a program apart from nook so that the
// libraries it needs (k8s.io/api, compose-go) stay out of nook's binary,
// whose every start would run their initialisers; nook looks for it beside
// itself, so install them together (`go install
// github.com/nookenv/nook/cmd/...`).
package main

import "github.com/nookenv/nook/export/manifests"

func main() { manifests.Main() }
