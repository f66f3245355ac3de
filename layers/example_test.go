package layers_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/nookenv/nook/layers"
)

// A run looks the image up in the store and pulls it only when the store
// does not have it: a warm run reads one or two small records and never
// asks the registry.
func ExampleStore_Lookup() {
	store, err := layers.OpenStore("/home/me/.local/share/nook")
	if err != nil {
		fmt.Println(err)
		return
	}
	snap, err := store.Lookup("debian:bookworm")
	if errors.Is(err, layers.ErrNotPulled) {
		snap, err = store.Pull(context.Background(), "debian:bookworm", layers.PullOptions{
			Registries: map[string]layers.Registry{"docker.io": {Mirrors: []string{"127.0.0.1:5000"}}},
			Progress:   func(p layers.Progress) { fmt.Println(p.Phase, p.Layer, p.Done, p.Total) },
		})
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.Digest, snap.Lowers)
}
