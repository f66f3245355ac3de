package layers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// PullOptions configure a pull.
type PullOptions struct {
	// Registries is the user config by registry host as written there
	// ("docker.io", "127.0.0.1:5000").
	Registries map[string]Registry
	// Keychain finds registry credentials; nil means authn.DefaultKeychain
	// (Docker's config.json and its credential helpers).
	Keychain authn.Keychain
	// Platform is the platform to pick from multi-platform images
	// ("linux/arm64"); "" means the host's.
	Platform string
	// Progress, when set, is told how the pull goes; it is called from one
	// goroutine at a time.
	Progress func(Progress)
	// Notice, when set, is told what the user should know about the image
	// pulled, in a line that does not name it: one at most per pull
	// (device nodes skipped).
	Notice func(string)
	// StallTimeout ends a pull whose registry sends nothing for that long
	// (no response, or no byte of a blob); 0 means DefaultStallTimeout.
	StallTimeout time.Duration
}

// Pull resolves ref, fetches the layers the store lacks, in parallel, and
// writes the records, so that Lookup(ref) then finds the image without the
// network. Every digest is checked: the manifest's and config's, each blob's
// and each layer's DiffID. A layer appears in the store whole or not at all,
// even when the pull is cancelled through ctx or the process is killed, and
// two pulls of the same layer at once (also from two processes) unpack it
// once. For "host" it returns the host snapshot and stores nothing.
func (s *Store) Pull(ctx context.Context, ref string, opt PullOptions) (*Snapshot, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if r.Kind == KindHost {
		return hostSnapshot(s.hostRoot)
	}
	platform, err := platformFor(opt.Platform)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	rep := &reporter{fn: opt.Progress, ref: ref}
	rep.report(Progress{Phase: PhaseResolving})

	// Cancelled when the pull fails, so that the other layers' downloads
	// stop; the registry client keeps this context for its blob fetches.
	pullCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	img, err := s.resolve(pullCtx, r, opt, platform)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("pulling %s: %w", ref, ctx.Err())
		}
		return nil, err
	}
	var total int64
	for _, l := range img.layers {
		total += l.size
	}
	rep.report(Progress{Phase: PhaseResolved, Digest: img.record.Digest, Layers: len(img.layers), Total: total})

	skipped, err := s.fetchLayers(pullCtx, cancel, img.layers, rep)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("pulling %s: %w", ref, ctx.Err())
		}
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	if img.record.StackFrom, err = s.stackFrom(img.record.Layers); err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}

	// Records last: a ref record names an image whose layers are all in
	// place.
	hex, err := digestHex(img.record.Digest)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	if err := writeRecord(s.path(imagesDir, hex+".json"), &img.record); err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	rr := refRecord{Ref: r.String(), Platform: platform.String(), Digest: img.record.Digest, Source: img.source}
	if err := writeRecord(s.refPath(r, platform.String()), &rr); err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	if skipped.Devices > 0 && opt.Notice != nil {
		opt.Notice(devicesNotice(skipped))
	}
	return s.snapshotOf(ref, &img.record)
}

// devicesNotice tells that an image's layers held device nodes, which
// were skipped.
func devicesNotice(u Unpacked) string {
	names := make([]string, len(u.DeviceNames))
	for i, n := range u.DeviceNames {
		names[i] = "/" + n
	}
	if u.Devices > len(names) {
		names = append(names, "…")
	}
	nodes := "device nodes"
	if u.Devices == 1 {
		nodes = "device node"
	}
	return fmt.Sprintf("skipped %d %s (%s): nook's own /dev provides them at run time",
		u.Devices, nodes, strings.Join(names, ", "))
}
