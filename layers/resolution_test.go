package layers

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestResolutionFoundWhileItsLayerIsThere(t *testing.T) {
	s := testStore(t, "", nil)
	key, layer := testKey("apt-get install jq"), testKey("apt-get install jq=1.6 libjq1=1.6")
	r := Resolution{Key: key, Layer: layer, Manager: "apt-get", Packages: map[string]string{"jq": "1.6", "libjq1": "1.6"}}
	if err := s.RecordResolution(r); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LookupResolution(key); got != nil || err != nil {
		t.Errorf("LookupResolution before the layer is made = %+v, %v; want nothing", got, err)
	}
	if _, err := s.MakeLayer(context.Background(), layer, BuiltLayer{Kind: KindPackages}, writeFill("f", "x"), nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.LookupResolution(key)
	if err != nil || got == nil || got.Layer != layer || got.Manager != "apt-get" || !maps.Equal(got.Packages, r.Packages) {
		t.Errorf("LookupResolution = %+v, %v; want %+v", got, err, r)
	}
	if got, err := s.LookupResolution(testKey("apt-get install make")); got != nil || err != nil {
		t.Errorf("LookupResolution of another key = %+v, %v", got, err)
	}
}

func TestGCRemovesResolutionsOfRemovedLayers(t *testing.T) {
	s := testStore(t, "", nil)
	kept, gone := testKey("kept"), testKey("gone")
	if _, err := s.MakeLayer(context.Background(), kept, BuiltLayer{Kind: KindPackages}, writeFill("f", "x"), nil); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{kept, gone} {
		if err := s.RecordResolution(Resolution{Key: testKey("resolve " + l), Layer: l, Manager: "apt-get"}); err != nil {
			t.Fatal(err)
		}
	}
	// Judged two days on, with the layer kept (by its lock: a maker is at
	// work on it), the record of the absent layer goes.
	held, err := lockFile(context.Background(), s.path(locksDir, kept[7:]+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.unlock()
	rep, err := s.GC(GCOptions{Now: time.Now().Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, r := range rep.Removed {
		if r.Kind == "resolved" {
			removed = append(removed, r.Name)
		}
	}
	if !slices.Equal(removed, []string{gone}) {
		t.Errorf("gc removed the resolutions of %v, want only that of %s", removed, gone)
	}
	if _, err := os.Stat(filepath.Join(s.path(resolvedDir), testKey("resolve " + kept)[7:]+".json")); err != nil {
		t.Errorf("the record of a layer in the store: %v", err)
	}
}
