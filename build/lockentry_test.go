package build

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

func TestLockedVersions(t *testing.T) {
	complete := &layers.EnvLock{Manager: "apt-get", Declared: []string{"jq", "make"},
		Packages: map[string]string{"jq": "1.6", "libjq1": "1.6", "make": "4.3"}}
	legacy := &layers.EnvLock{Manager: "apt-get", Packages: map[string]string{"jq": "1.6", "make": "4.3"}}
	for _, tc := range []struct {
		name     string
		pl       *layers.EnvLock
		declared []string
		want     map[string]string
		complete bool
	}{
		{"no lock", nil, []string{"jq"}, nil, false},
		{"same packages", complete, []string{"make", "jq", "jq"}, complete.Packages, true},
		{"older nook", legacy, []string{"jq", "make"}, legacy.Packages, false},
		{"one more", complete, []string{"jq", "make", "curl"}, map[string]string{"jq": "1.6", "make": "4.3"}, false},
		{"one less", complete, []string{"jq"}, map[string]string{"jq": "1.6"}, false},
	} {
		got, c := lockedVersions(tc.pl, tc.declared)
		if !maps.Equal(got, tc.want) || c != tc.complete {
			t.Errorf("%s: lockedVersions = %v, %v; want %v, %v", tc.name, got, c, tc.want, tc.complete)
		}
	}
}

func TestEntryOfPinsWhatTheStepInstalled(t *testing.T) {
	e := &env.Env{ImageRef: "debian:bookworm"}
	in := input()
	p := plan(t, in)
	got := entryOf(e, digest, p)
	want := &layers.EnvLock{Image: "debian:bookworm", Digest: digest, Manager: "apt-get",
		Declared: []string{"hello", "make"}, Packages: in.Versions}
	if !got.Equal(want) {
		t.Errorf("entryOf = %+v, want %+v", got, want)
	}
	// A provisional step (a layer an older nook made): the declared
	// packages' versions alone, as that nook wrote them.
	in.Complete = false
	got = entryOf(e, digest, plan(t, in))
	want = &layers.EnvLock{Image: "debian:bookworm", Digest: digest, Manager: "apt-get",
		Packages: map[string]string{"hello": "2.10-3", "make": "4.3-4.1"}}
	if !got.Equal(want) || got.Complete() {
		t.Errorf("entryOf a provisional plan = %+v, want %+v", got, want)
	}
}

func TestWithEntry(t *testing.T) {
	a := &layers.EnvLock{Image: "x", Digest: digest, Declared: []string{}, Packages: map[string]string{}}
	lock, changed := withEntry(nil, "linux/amd64", a)
	if !changed || lock.Platforms["linux/amd64"] != a {
		t.Errorf("withEntry on no lock: %v, %v", lock, changed)
	}
	same := *a
	if _, changed := withEntry(lock, "linux/amd64", &same); changed {
		t.Error("the same entry changed the lock")
	}
	other := same
	other.Packages = map[string]string{"jq": "1.6"}
	if l, changed := withEntry(lock, "linux/amd64", &other); !changed || l.Platforms["linux/amd64"] != &other || lock.Platforms["linux/amd64"] != a {
		t.Error("a new entry did not change the lock, or changed the one given")
	}
}

func TestResolvedPinsByAnEarlierBuild(t *testing.T) {
	store, err := layers.OpenStore(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	b := &Builder{Store: store}
	in := input()
	in.Versions, in.Complete = nil, false
	installed := map[string]string{"hello": "2.10-3", "make": "4.3-4.1", "libfoo1": "1.0-1"}
	final := in
	final.Versions, final.Complete = installed, true
	layer := plan(t, final).Steps[0].Key
	if err := store.RecordResolution(layers.Resolution{Key: resolutionKey(in), Layer: layer, Manager: "apt-get", Packages: installed}); err != nil {
		t.Fatal(err)
	}
	unpinned := plan(t, in)

	// The layer is not in the store: nothing to find.
	if p, _, err := b.resolved(unpinned, in); err != nil || p != unpinned {
		t.Errorf("resolved without the layer = %v, %v; want the plan as it was", p, err)
	}
	if _, err := store.MakeLayer(context.Background(), layer, layers.BuiltLayer{Kind: layers.KindPackages},
		func(string, string) error { return nil }, nil); err != nil {
		t.Fatal(err)
	}
	p, got, err := b.resolved(unpinned, in)
	if err != nil || !p.Pinned || p.Steps[0].Key != layer || !got.Complete || !maps.Equal(got.Versions, installed) {
		t.Fatalf("resolved = %+v, %+v, %v; want the plan pinned at the recorded layer", p, got, err)
	}
	if !slices.Equal(keys(p)[1:], keys(plan(t, final))[1:]) {
		t.Error("the setup steps on the found layer have other keys than after a build")
	}

	// The lock pins hello at another version: the record does not do.
	partial := in
	partial.Versions = map[string]string{"hello": "2.10-2"}
	if p, _, err := b.resolved(plan(t, partial), partial); err != nil || p.Pinned {
		t.Errorf("resolved against the lock's pins = %v, %v; want nothing found", p, err)
	}
	// The same pins the record has: found.
	partial.Versions = map[string]string{"hello": "2.10-3"}
	if p, _, err := b.resolved(plan(t, partial), partial); err != nil || !p.Pinned || p.Steps[0].Key != layer {
		t.Errorf("resolved with agreeing pins = %v, %v; want the recorded layer", p, err)
	}
}

func TestKeepImageWritesTheImageFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nook.lock")
	e := &env.Env{ImageRef: "debian:bookworm"}
	k := &lockKeeper{b: &Builder{LockPath: path}, e: e, digest: digest}
	if err := k.keepImage(); err != nil {
		t.Fatal(err)
	}
	lock, err := layers.ReadLock(path)
	if err != nil || lock == nil {
		t.Fatalf("ReadLock = %v, %v", lock, err)
	}
	if got := lock.Platforms[layers.HostPlatform()]; got == nil || got.Image != "debian:bookworm" || got.Digest != digest {
		t.Fatalf("entry = %+v, want the image pinned", got)
	}

	// A lock that pins this image and its packages keeps them.
	pinned := &layers.EnvLock{Image: "debian:bookworm", Digest: digest, Manager: "apt-get",
		Declared: []string{"jq"}, Packages: map[string]string{"jq": "1.6"}}
	lock.Platforms[layers.HostPlatform()] = pinned
	k = &lockKeeper{b: &Builder{LockPath: path}, e: e, digest: digest, lock: lock}
	if err := k.keepImage(); err != nil || k.changed {
		t.Errorf("keepImage over the same image: changed %v, %v", k.changed, err)
	}
}
