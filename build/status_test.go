package build

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/internal/testimage"
	"github.com/nookenv/nook/layers"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	img, err := testimage.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	if err := testimage.WriteLayout(filepath.Join(dir, "layout"), "v1", img); err != nil {
		t.Fatal(err)
	}
	store, err := layers.OpenStore(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env.Env{ProjectDir: dir, ProjectID: "0123456789ab", File: filepath.Join(dir, "nook.toml"), Image: "oci:" + filepath.Join(dir, "layout") + ":v1", ImageRef: "oci:layout:v1"}

	x := e.ProjectEnvironment()
	if s := Check(store, e, x, nil, env.IDMapSingle); s != (Status{}) {
		t.Errorf("before any build: %+v, want nothing locked, pulled or built", s)
	}
	res, err := (&Builder{Store: store}).Build(context.Background(), e, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := Check(store, e, x, res.Lock, env.IDMapSingle); s != (Status{Locked: true, Pulled: true, Built: true}) {
		t.Errorf("after the build: %+v, want all of it", s)
	}
	if s := Check(store, e, x, nil, env.IDMapSingle); s.Locked || !s.Pulled || s.Built {
		t.Errorf("built, without its lock: %+v, want pulled only", s)
	}
	more := *x
	more.Packages = []string{"make"}
	if s := Check(store, e, &more, res.Lock, env.IDMapSingle); s != (Status{Pulled: true}) {
		t.Errorf("a package the lock does not pin: %+v, want the image pulled and nothing more", s)
	}
	if s := Check(nil, e, x, res.Lock, env.IDMapSingle); s != (Status{Locked: true}) {
		t.Errorf("without a store: %+v, want locked only", s)
	}
	if s := Check(store, e, &env.Environment{Image: "host"}, nil, env.IDMapSingle); s != (Status{Locked: true, Pulled: true, Built: true}) {
		t.Errorf("the host base: %+v, want always ready", s)
	}
}
