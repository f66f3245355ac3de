package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// LockFile is the name of the lock file beside nook.toml.
const LockFile = "nook.lock"

// LockPath is where e's nook.lock lives.
func LockPath(e *env.Env) string { return filepath.Join(e.ProjectDir, LockFile) }

// hostImage is the "host" base, which has no layers to build on.
const hostImage = "host"

// Builder builds environments into a store.
type Builder struct {
	Store *layers.Store
	// Pull configures pulls: registries from the user config, progress.
	// Its notices (device nodes skipped) go to Out when it has no Notice.
	Pull layers.PullOptions
	// IDMap is the id-map mode the steps run under: env.IDMapSingle (the
	// default: one id, ownership calls faked by a seccomp filter) or
	// env.IDMapFull. It is part of every built layer's key.
	IDMap string
	// Update ignores the lock and what earlier builds installed: the
	// image's tag is resolved again, the packages are installed unpinned,
	// and the lock is rewritten.
	Update bool
	// Offline never touches the network: what the store lacks is an error
	// (an *OfflineError) instead of a pull or a step run.
	Offline bool
	// Out receives the steps' announcements and their output, each line
	// prefixed with "[N/M]", and nook's notices; nil discards them.
	Out io.Writer
	// ResolvConf is the steps' /etc/resolv.conf when they run on the
	// host's network (the host's); in a network of their own they get
	// slirp4netns's DNS forwarder.
	ResolvConf []byte
	// Remove removes a failed step's directory; nil is the store's own
	// removal. Under the full id map it must cope with files owned by
	// subordinate ids (rootless.RemoveAll).
	Remove func(string) error

	network *stepNet // how steps reach the network; chosen at the first step that runs
}

// stepNet is how build steps reach the network.
type stepNet struct {
	own    bool   // a network namespace of their own, outbound through slirp4netns
	resolv []byte // their /etc/resolv.conf
}

// Result is what a build produced.
type Result struct {
	Snapshot *layers.Snapshot
	// Lock is the lock as the build left it: the one given with this
	// environment's entry for this platform brought up to date.
	Lock *layers.Lock
	// Ran counts the steps that ran; 0 when everything was in the store.
	Ran int
}

// Lookup returns environment x of project e when the store has it built
// exactly as lock pins it: no pull, no step, no network, and for an
// unchanged project a hash per step and one record read. The error wraps
// layers.ErrNotBuilt when something must be built (or the lock brought up
// to date) first.
func Lookup(store *layers.Store, e *env.Env, x *env.Environment, lock *layers.Lock, idmap string) (*layers.Snapshot, error) {
	if x.Image == hostImage {
		return store.Lookup(hostImage)
	}
	pl := lockEntry(lock, x)
	if pl == nil || !sameDeclared(pl, x.Packages) {
		return nil, fmt.Errorf("%s: %w", LockFile, layers.ErrNotBuilt)
	}
	if localSource(x.Image) {
		// A layout or archive can change under the same name: one stat
		// (in Lookup) tells whether it still holds the image pinned.
		if snap, err := store.Lookup(x.Image); err != nil || snap.Digest != pl.Digest {
			return nil, fmt.Errorf("%s: image %s changed: %w", LockFile, x.Image, layers.ErrNotBuilt)
		}
	}
	var m *Manager
	if len(x.Packages) > 0 {
		if m = ManagerByName(pl.Manager); m == nil {
			return nil, fmt.Errorf("%s: %w", LockFile, layers.ErrNotBuilt)
		}
	}
	plan, err := MakePlan(Input{
		Platform: layers.HostPlatform(), Digest: pl.Digest, Manager: m, Packages: x.Packages,
		Versions: pl.Packages, Complete: pl.Complete(),
		Setup: x.Setup, Env: e.Vars, IDMap: idmap,
	})
	if err != nil {
		return nil, err
	}
	return store.LookupEnv(plan.Top)
}

// Build makes what environment x of project e lacks and returns it: the
// image (pinned by the lock when it has an entry of x for this platform
// and the same image), then each step whose layer is not in the store, in
// order. The packages are pinned by the lock; without a lock entry for
// them, by what an earlier build of the same packages on the same image
// installed (layers.Resolution), in which case their layer is in the
// store already. x's entry in lock is set as soon as it is known — the
// image's once it is pulled, the packages' once their layer is there — so
// that a build failing in a later step keeps them; lock may be shared by
// builds running at once (nil: no lock, kept in memory).
func (b *Builder) Build(ctx context.Context, e *env.Env, x *env.Environment, lock *Lock) (*Result, error) {
	if lock == nil {
		lock = NewLock("", nil, false)
	}
	if x.Image == hostImage {
		if x.Steps() {
			return nil, errors.New(`the "host" base takes no packages or setup steps: it is the host's root, read-only`)
		}
		snap, err := b.Store.Lookup(hostImage)
		return &Result{Snapshot: snap, Lock: lock.Current()}, err
	}
	pl := lock.entry(x)
	if b.Update {
		pl = nil
	}
	base, err := b.image(ctx, x.Image, pl)
	if err != nil {
		return nil, err
	}
	in := Input{
		Platform: layers.HostPlatform(), Digest: base.Digest, Packages: x.Packages,
		Setup: x.Setup, Env: e.Vars, IDMap: b.idmap(),
	}
	if len(x.Packages) > 0 {
		if in.Manager, err = b.manager(x, base, pl); err != nil {
			return nil, err
		}
		in.Versions, in.Complete = lockedVersions(pl, x.Packages)
	}
	plan, err := MakePlan(in)
	if err != nil {
		return nil, err
	}
	if !plan.Pinned && !b.Update {
		if plan, in, err = b.resolved(plan, in); err != nil {
			return nil, err
		}
	}
	keeper := &lockKeeper{lock: lock, x: x, digest: base.Digest, out: b.out()}
	if err := keeper.keepImage(); err != nil {
		return nil, err
	}
	res := &Result{}
	if snap, err := b.Store.LookupEnv(plan.Top); err == nil {
		res.Snapshot = snap
	} else {
		if plan, res.Ran, err = b.steps(ctx, e, plan, in, base, keeper); err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(base.Lowers)+len(plan.Steps))
		for _, l := range base.Lowers {
			ids = append(ids, "sha256:"+filepath.Base(l))
		}
		for _, st := range plan.Steps {
			ids = append(ids, st.Key)
		}
		rec := layers.EnvRecord{
			Key: plan.Top, Ref: x.Image, Digest: base.Digest, Platform: layers.HostPlatform(),
			ProjectDir: e.ProjectDir, Role: x.Name, Layers: ids, Config: base.Config,
		}
		if err := b.Store.RecordEnv(rec); err != nil {
			return nil, err
		}
		if res.Snapshot, err = b.Store.LookupEnv(plan.Top); err != nil {
			return nil, err
		}
	}
	if err := b.Store.RecordProject(e.ProjectID, e.ProjectDir, e.File); err != nil {
		return nil, err
	}
	if err := keeper.keep(plan); err != nil {
		return nil, err
	}
	res.Lock = lock.Current()
	return res, nil
}

// manager is the package manager of the image base: the lock's when it
// names one nook knows, else the one Detect finds.
func (b *Builder) manager(x *env.Environment, base *layers.Snapshot, pl *layers.EnvLock) (*Manager, error) {
	if pl != nil {
		if m := ManagerByName(pl.Manager); m != nil {
			return m, nil
		}
	}
	return Detect(x.Image, base.Lowers)
}

// steps makes the layers of plan that the store lacks. A packages step
// whose key is provisional changes the plan (its key, and so every later
// key): the plan returned is the one whose layers are in the store. Once
// the packages layer is there, keeper writes the lock's entry.
func (b *Builder) steps(ctx context.Context, e *env.Env, plan *Plan, in Input, base *layers.Snapshot, keeper *lockKeeper) (*Plan, int, error) {
	lowers := slices.Clone(base.Lowers)
	ran := 0
	for i := 0; i < len(plan.Steps); i++ {
		st := plan.Steps[i]
		if b.Store.HasLayer(st.Key) {
			fmt.Fprintf(b.out(), "%s: cached\n", plan.label(i))
			lowers = append(lowers, b.Store.LayerPath(st.Key))
			if st.Kind == layers.KindPackages {
				if err := keeper.keep(plan); err != nil {
					return nil, 0, err
				}
			}
			continue
		}
		if b.Offline {
			if names := unpinned(in); st.Kind == layers.KindPackages && !plan.Pinned && len(names) > 0 {
				return nil, 0, &OfflineError{What: "the versions of " + joinNames(names) + " (" + LockFile + " pins none)"}
			}
			return nil, 0, &OfflineError{What: "the layer of build step " + plan.label(i)}
		}
		b.stepNetwork() // its notice, if any, before the step's output
		fmt.Fprintln(b.out(), plan.label(i))
		var made outcome
		var err error
		if st.Kind == layers.KindPackages {
			var final *Plan
			final, made, err = b.packages(ctx, e, plan, i, in, base, lowers)
			if err == nil {
				plan = final
				err = keeper.keep(plan)
			}
		} else {
			fill := func(upper, work string) error {
				return b.runStep(ctx, e, plan, i, base, lowers, upper, work, nil)
			}
			var ok bool
			ok, err = b.Store.MakeLayer(ctx, st.Key, builtLayer(st), fill, b.Remove)
			made = madeHere
			if !ok {
				made = madeElsewhere
			}
		}
		if err != nil && ctx.Err() != nil {
			return nil, 0, &InterruptedError{Label: plan.label(i)}
		}
		if err != nil {
			return nil, 0, stepError(err)
		}
		switch made {
		case madeHere:
			ran++
		case madeElsewhere:
			fmt.Fprintf(b.out(), "%s: built by another nook meanwhile\n", plan.label(i))
		case madeBefore:
			ran++
			fmt.Fprintf(b.out(), "%s: the same packages were built before; keeping that layer\n", plan.label(i))
		}
		lowers = append(lowers, b.Store.LayerPath(plan.Steps[i].Key))
	}
	return plan, ran, nil
}

// outcome says who made a layer a step needed.
type outcome int

const (
	madeHere      outcome = iota // the step ran and its layer was stored
	madeElsewhere                // another nook made it while this one waited for its lock
	madeBefore                   // the step ran, but what it made was in the store already
)

// stepError is err without the store's wrapping, which names a key the
// user never sees, when it is a step's own failure.
func stepError(err error) error {
	var failed *StepError
	if errors.As(err, &failed) {
		return failed
	}
	var missing *MissingVersionError
	if errors.As(err, &missing) {
		return missing
	}
	var version *VersionError
	if errors.As(err, &version) {
		return version
	}
	return err
}

// image returns the snapshot of the image ref, pinned at pl's digest when
// the lock has one, pulling it when the store lacks it.
func (b *Builder) image(ctx context.Context, ref string, pl *layers.EnvLock) (*layers.Snapshot, error) {
	r, err := layers.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	want := ""
	if pl != nil {
		want = pl.Digest
	}
	lookup := pinnedRef(ref, r, want)
	snap, err := b.Store.Lookup(lookup)
	if err == nil && b.Update && r.Kind == layers.KindRegistry {
		err = layers.ErrNotPulled // --update resolves the tag again
	}
	if err != nil {
		if !errors.Is(err, layers.ErrNotPulled) {
			return nil, err
		}
		if b.Offline && r.Kind == layers.KindRegistry {
			what := "image " + ref
			if want != "" {
				what += " at " + want + " (pinned by " + LockFile + ")"
			}
			return nil, &OfflineError{What: what}
		}
		opt := b.Pull
		if opt.Notice == nil {
			opt.Notice = func(m string) { fmt.Fprintf(b.out(), "nook: notice: image %s: %s\n", ref, m) }
		}
		if snap, err = b.Store.Pull(ctx, lookup, opt); err != nil {
			return nil, err
		}
	}
	if want != "" && snap.Digest != want {
		return nil, &ImageChangedError{Ref: ref, Locked: want, Now: snap.Digest}
	}
	out := *snap
	out.Ref = ref
	return &out, nil
}

func (b *Builder) out() io.Writer {
	if b.Out == nil {
		return io.Discard
	}
	return b.Out
}

func (b *Builder) idmap() string {
	if b.IDMap == "" {
		return env.IDMapSingle
	}
	return b.IDMap
}

// builtLayer is the record of st's layer.
func builtLayer(st Step) layers.BuiltLayer {
	return layers.BuiltLayer{Parent: st.Parent, Kind: st.Kind, Text: st.Text}
}

// pinnedRef is how the store is asked for the image ref (parsed as r) that
// the lock pins at digest ("" when it pins none): a registry image by the
// digest, not the tag — no registry round-trip, and a tag that moved since
// the lock was written does not matter.
func pinnedRef(ref string, r layers.Reference, digest string) string {
	if digest == "" || r.Kind != layers.KindRegistry {
		return ref
	}
	return r.Name.Context().Name() + "@" + digest
}

// localSource reports whether ref names an image in a local file (an OCI
// layout or a docker archive) rather than a registry.
func localSource(ref string) bool {
	return strings.HasPrefix(ref, "oci:") || strings.HasPrefix(ref, "docker-archive:")
}

// unpinned lists the declared packages in has no version of.
func unpinned(in Input) []string {
	var out []string
	for _, n := range in.Packages {
		if in.Versions[n] == "" {
			out = append(out, n)
		}
	}
	return out
}

func joinNames(names []string) string {
	return strings.Join(names, ", ")
}
