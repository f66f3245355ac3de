package build

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
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
	x := &env.Environment{ImageRef: "debian:bookworm"}
	in := input()
	p := plan(t, in)
	got := entryOf(x, digest, p)
	want := &layers.EnvLock{Image: "debian:bookworm", Digest: digest, Manager: "apt-get",
		Declared: []string{"hello", "make"}, Packages: in.Versions}
	if !got.Equal(want) {
		t.Errorf("entryOf = %+v, want %+v", got, want)
	}
	// A provisional step (a layer an older nook made): the declared
	// packages' versions alone, as that nook wrote them.
	in.Complete = false
	got = entryOf(x, digest, plan(t, in))
	want = &layers.EnvLock{Image: "debian:bookworm", Digest: digest, Manager: "apt-get",
		Packages: map[string]string{"hello": "2.10-3", "make": "4.3-4.1"}}
	if !got.Equal(want) || got.Complete() {
		t.Errorf("entryOf a provisional plan = %+v, want %+v", got, want)
	}
}

func TestLockSetsEachEnvironmentsEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nook.lock")
	a := &layers.EnvLock{Image: "x", Digest: digest, Declared: []string{}, Packages: map[string]string{}}
	l := NewLock(path, nil, false)
	project, db := &env.Environment{ImageRef: "x"}, &env.Environment{Name: "db", ImageRef: "pg"}
	if err := l.set(project, a, nil); err != nil {
		t.Fatal(err)
	}
	if !l.Changed() || l.Current().Entry("", layers.HostPlatform()) != a {
		t.Fatalf("set on no lock: %+v", l.Current())
	}
	same := *a
	before := l.Current()
	if err := l.set(project, &same, nil); err != nil || l.Current() != before {
		t.Errorf("the same entry changed the lock (%v)", err)
	}
	// Builds of two environments at once keep each other's entries.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := &env.Environment{Name: fmt.Sprintf("r%02d", i), ImageRef: "pg"}
			if err := l.set(x, &layers.EnvLock{Image: "pg", Digest: digest, Packages: map[string]string{}}, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := l.set(db, &layers.EnvLock{Image: "pg", Digest: digest, Packages: map[string]string{}}, nil); err != nil {
		t.Fatal(err)
	}
	written, err := layers.ReadLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(written.Roles) != 21 || written.Entry("", layers.HostPlatform()) == nil || lockEntry(written, db) == nil {
		t.Errorf("the lock written holds %d roles' entries and the project's %+v; want 21 and it", len(written.Roles), written.Platforms)
	}
	if lockEntry(written, &env.Environment{Name: "db", ImageRef: "other"}) != nil {
		t.Error("an entry for another image was taken for the environment's")
	}
	// Roles that lost their own image lose their entries.
	e := &env.Env{Roles: map[string]*env.Role{"db": {Own: db}, "r00": {}}}
	if err := l.Prune(e, nil); err != nil {
		t.Fatal(err)
	}
	if written, _ = layers.ReadLock(path); len(written.Roles) != 1 || written.Entry("db", layers.HostPlatform()) == nil {
		t.Errorf("after Prune: roles %v, want db's alone", written.Roles)
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
	x := &env.Environment{ImageRef: "debian:bookworm"}
	k := &lockKeeper{lock: NewLock(path, nil, false), x: x, digest: digest}
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
	k = &lockKeeper{lock: NewLock(path, lock, false), x: x, digest: digest}
	if err := k.keepImage(); err != nil || k.lock.Changed() {
		t.Errorf("keepImage over the same image: changed %v, %v", k.lock.Changed(), err)
	}
}
