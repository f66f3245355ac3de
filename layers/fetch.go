package layers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// pullJobs bounds how many layers are fetched at once.
const pullJobs = 4

// fetchLayers makes sure each layer is in the store, fetching the missing
// ones in parallel, and sums up what their unpacking skipped. The first
// failure calls cancel, which stops the others.
func (s *Store) fetchLayers(ctx context.Context, cancel context.CancelFunc, layers []layerSource, rep *reporter) (Unpacked, error) {
	var missing []layerSource
	for _, l := range layers {
		if l.diffID.Algorithm != "sha256" || l.digest.Hex != "" && l.digest.Algorithm != "sha256" {
			return Unpacked{}, fmt.Errorf("layer %s: only sha256 digests are supported", l.label())
		}
		if s.HasLayer(l.diffID.String()) {
			rep.report(Progress{Phase: PhaseCached, Layer: l.label(), Done: l.size, Total: l.size})
			continue
		}
		missing = append(missing, l)
	}
	if len(missing) == 0 {
		return Unpacked{}, nil
	}
	s.removeStaleTmp()
	var g errgroup.Group
	g.SetLimit(pullJobs)
	var mu sync.Mutex
	var sum Unpacked
	for _, l := range missing {
		g.Go(func() error {
			u, err := s.fetchLayer(ctx, l, rep)
			if err != nil {
				cancel()
				return err
			}
			mu.Lock()
			sum.Devices += u.Devices
			sum.DeviceNames = append(sum.DeviceNames, u.DeviceNames...)
			mu.Unlock()
			return nil
		})
	}
	err := g.Wait()
	slices.Sort(sum.DeviceNames)
	sum.DeviceNames = slices.Compact(sum.DeviceNames)
	sum.DeviceNames = sum.DeviceNames[:min(len(sum.DeviceNames), maxDeviceNames)]
	return sum, err
}

// fetchLayer puts one layer into the store under its lock: unpacked into a
// fresh directory under tmp/, checked, then renamed to layers/<diffid-hex>.
// Whatever fails, the directory under tmp/ is removed.
func (s *Store) fetchLayer(ctx context.Context, l layerSource, rep *reporter) (Unpacked, error) {
	lockPath := s.path(locksDir, l.diffID.Hex+".lock")
	lock, ok, err := tryLockFile(lockPath)
	if err != nil {
		return Unpacked{}, err
	}
	if !ok {
		rep.report(Progress{Phase: PhaseWaiting, Layer: l.label(), Total: l.size})
		if lock, err = lockFile(ctx, lockPath); err != nil {
			return Unpacked{}, err
		}
	}
	defer lock.unlock()
	if s.HasLayer(l.diffID.String()) { // made by whoever held the lock
		rep.report(Progress{Phase: PhaseCached, Layer: l.label(), Done: l.size, Total: l.size})
		return Unpacked{}, nil
	}

	// The directory's name starts with the DiffID, so that a later pull can
	// tell, by this layer's lock, whether its maker is still at work.
	tmp, err := os.MkdirTemp(s.path(tmpDir), l.diffID.Hex+".")
	if err != nil {
		return Unpacked{}, fmt.Errorf("layer %s: %w", l.label(), err)
	}
	done, stats, err := s.unpackLayer(ctx, l, tmp, rep)
	if err == nil {
		err = syncDir(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, s.path(layersDir, l.diffID.Hex))
	}
	if err != nil {
		if rerr := removeTree(tmp); rerr != nil {
			err = errors.Join(err, rerr)
		}
		if blobFault(err) != nil { // it names the blob already
			return Unpacked{}, err
		}
		return Unpacked{}, fmt.Errorf("layer %s: %w", l.label(), err)
	}
	rep.report(Progress{Phase: PhaseDone, Layer: l.label(), Done: done, Total: max(l.size, done)})
	return stats, nil
}

// unpackLayer streams the layer's blob through Decompress into Unpack at
// dir, hashing the blob as read (it must match the layer's digest) and the
// tar stream (it must match the DiffID); a blob whose descriptor gives its
// size and media type must have that size and that compression. It
// returns the blob's size and what Unpack skipped.
func (s *Store) unpackLayer(ctx context.Context, l layerSource, dir string, rep *reporter) (int64, Unpacked, error) {
	rc, err := l.open()
	if err != nil {
		return 0, Unpacked{}, fmt.Errorf("opening blob: %w", err)
	}
	defer rc.Close()
	var src io.Reader = rc
	if l.sized {
		src = &sizedReader{r: rc, blob: l.label(), size: l.size}
	}
	blobHash := sha256.New()
	blob := &progressReader{ctx: ctx, r: io.TeeReader(src, blobHash), rep: rep, layer: l.label(), total: l.size}
	dr, err := decompress(blob, l.mediaType, l.label())
	if err != nil {
		return blob.done, Unpacked{}, readError(err)
	}
	defer dr.Close()
	tarHash := sha256.New()
	tr := io.TeeReader(dr, tarHash)
	stats, err := s.unpack(tr, dir)
	if err != nil {
		return blob.done, stats, readError(err)
	}
	// What follows the tar's end marker (padding, a gzip trailer) counts
	// for both digests.
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return blob.done, stats, readError(fmt.Errorf("reading layer: %w", err))
	}
	if _, err := io.Copy(io.Discard, blob); err != nil {
		return blob.done, stats, readError(fmt.Errorf("reading blob: %w", err))
	}
	if l.digest.Hex != "" {
		if got := hex.EncodeToString(blobHash.Sum(nil)); got != l.digest.Hex {
			return blob.done, stats, &DigestError{What: "blob", Want: l.digest.String(), Got: "sha256:" + got}
		}
	}
	if got := hex.EncodeToString(tarHash.Sum(nil)); got != l.diffID.Hex {
		return blob.done, stats, &DigestError{What: "DiffID", Want: l.diffID.String(), Got: "sha256:" + got}
	}
	return blob.done, stats, nil
}

// blobFault is the cause in err when the blob's source is at fault (a
// registry that fell silent, a descriptor that lied), which names the
// blob; nil otherwise.
func blobFault(err error) error {
	var stall *StallError
	if errors.As(err, &stall) {
		return stall
	}
	var desc *DescriptorError
	if errors.As(err, &desc) {
		return desc
	}
	return nil
}

// readError is err, or, when the blob's source is at fault, that cause
// alone (blobFault): where in the tar stream it struck says nothing to the
// user.
func readError(err error) error {
	if fault := blobFault(err); fault != nil {
		return fault
	}
	return err
}

// DigestError is content that does not match the digest it was named by.
type DigestError struct {
	What string // "blob" (a layer as stored) or "DiffID" (its uncompressed tar)
	Want string
	Got  string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%s digest mismatch: content is %s, want %s", e.What, e.Got, e.Want)
}

// Hint says what to do about it.
func (e *DigestError) Hint() string {
	return "the image source sent damaged or altered content: pull again; if it persists, the image (or the mirror serving it) is broken"
}

// removeStaleTmp removes what killed pulls left under tmp/: a directory
// whose layer's lock nobody holds has no maker at work.
func (s *Store) removeStaleTmp() {
	des, err := os.ReadDir(s.path(tmpDir))
	if err != nil {
		return
	}
	for _, de := range des {
		diffHex, _, ok := strings.Cut(de.Name(), ".")
		if !ok {
			continue
		}
		if _, err := digestHex("sha256:" + diffHex); err != nil {
			continue
		}
		lock, ok, err := tryLockFile(s.path(locksDir, diffHex+".lock"))
		if err != nil || !ok {
			continue
		}
		// A failure leaves it for the next pull: nothing reads tmp/.
		_ = removeTree(s.path(tmpDir, de.Name()))
		lock.unlock()
	}
}
