package export

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/nookenv/nook/layers"
)

// push writes the made image to the registry at ref, with the keychain and
// insecure setting that pulls from that registry use. Blobs the registry
// has already are not sent; a base blob that another repository of the
// same registry holds is mounted from there. progress, when set, is told
// the bytes done of the total.
func push(ctx context.Context, img *Image, ref name.Reference, opt layers.PullOptions, progress func(done, total int64)) error {
	kc := opt.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithUserAgent("nook")}
	var updates chan v1.Update
	finished := make(chan struct{})
	if progress != nil {
		updates = make(chan v1.Update, 16)
		ropts = append(ropts, remote.WithProgress(updates))
		go func() {
			defer close(finished)
			for u := range updates {
				progress(u.Complete, u.Total)
			}
		}()
	} else {
		close(finished)
	}
	err := remote.Write(ref, img.v1Image(true), ropts...)
	<-finished
	if err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

// pushReference parses REF as --push takes it, marking its registry
// insecure (plain HTTP) when the user config says so, as pulls do.
func pushReference(ref string, regs map[string]layers.Registry) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("--push %s: %w", ref, err)
	}
	if layers.InsecureRegistry(regs, r.Context().RegistryStr()) {
		r, err = name.ParseReference(ref, name.Insecure)
	}
	return r, err
}
