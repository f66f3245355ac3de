package layers

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func TestMirrorThatHasTheImage(t *testing.T) {
	origin := startRegistry(t)
	mirror := startRegistry(t)
	img := testImage(t, "", gzipLayer(t, map[string]string{"from": "mirror\n"}))
	mirror.push(t, "team/app:1", img)
	ref := origin.Host + "/team/app:1"
	s := testStore(t, "", nil)
	opt := anonymous
	opt.Registries = map[string]Registry{origin.Host: {Mirrors: []string{mirror.Host}}}

	snap, err := s.Pull(context.Background(), ref, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "from"); got != "mirror\n" {
		t.Errorf("from = %q", got)
	}
	if n := origin.requests.Load(); n != 0 {
		t.Errorf("the origin registry was asked %d times; the mirror had the image", n)
	}
}

func TestMirrorMissFallsBackToRegistry(t *testing.T) {
	origin := startRegistry(t)
	empty := startRegistry(t)
	down := startRegistry(t)
	down.Close() // a mirror nobody answers at
	img := testImage(t, "", gzipLayer(t, map[string]string{"from": "origin\n"}))
	ref := origin.push(t, "team/app:1", img)
	s := testStore(t, "", nil)
	opt := anonymous
	opt.Registries = map[string]Registry{origin.Host: {Mirrors: []string{down.Host, empty.Host}}}

	snap, err := s.Pull(context.Background(), ref, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "from"); got != "origin\n" {
		t.Errorf("from = %q", got)
	}
	if empty.requests.Load() == 0 {
		t.Errorf("the second mirror was not tried")
	}
}

func TestMirrorAndRegistryMissing(t *testing.T) {
	origin := startRegistry(t)
	mirror := startRegistry(t)
	s := testStore(t, "", nil)
	opt := anonymous
	opt.Registries = map[string]Registry{origin.Host: {Mirrors: []string{mirror.Host}}}
	_, err := s.Pull(context.Background(), origin.Host+"/team/none:1", opt)
	if err == nil {
		t.Fatal("pulling a missing image succeeded")
	}
	t.Logf("error: %v; hint: %v", err, hintOf(err))
	if !strings.Contains(err.Error(), "mirror "+mirror.Host) {
		t.Errorf("error does not say the mirror was tried: %v", err)
	}
	var h interface{ Hint() string }
	if !errors.As(err, &h) || !strings.Contains(h.Hint(), "image name") {
		t.Errorf("no hint to check the name: %v", err)
	}
}

func TestDockerHubMirror(t *testing.T) {
	mirror := startRegistry(t)
	img := testImage(t, "", gzipLayer(t, map[string]string{"hub": "mirrored\n"}))
	mirror.push(t, "library/busybox:1", img)
	s := testStore(t, "", nil) // its transport refuses anything but loopback
	opt := anonymous
	opt.Registries = map[string]Registry{"docker.io": {Mirrors: []string{mirror.Host}}}

	snap, err := s.Pull(context.Background(), "busybox:1", opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "hub"); got != "mirrored\n" {
		t.Errorf("hub = %q", got)
	}
	// The same image by its full name is the same reference.
	if _, err := s.Lookup("docker.io/library/busybox:1"); err != nil {
		t.Errorf("Lookup by the full name: %v", err)
	}
}

func TestCandidates(t *testing.T) {
	regs := map[string]Registry{
		"docker.io":      {Mirrors: []string{"127.0.0.1:5000", "mirror.example.com/hub/"}},
		"127.0.0.1:5000": {Insecure: true},
		"ghcr.io":        {Insecure: true},
	}
	tests := []struct {
		ref  string
		want []string // Name() of each candidate, then "+insecure" when plain HTTP is forced
	}{
		{"debian:bookworm", []string{
			"127.0.0.1:5000/library/debian:bookworm",
			"mirror.example.com/hub/library/debian:bookworm",
			"index.docker.io/library/debian:bookworm",
		}},
		{"index.docker.io/someone/tool@sha256:" + strings.Repeat("a", 64), []string{
			"127.0.0.1:5000/someone/tool@sha256:" + strings.Repeat("a", 64),
			"mirror.example.com/hub/someone/tool@sha256:" + strings.Repeat("a", 64),
			"index.docker.io/someone/tool@sha256:" + strings.Repeat("a", 64),
		}},
		{"ghcr.io/o/r:1", []string{"ghcr.io/o/r:1+insecure"}},
		{"quay.io/o/r:1", []string{"quay.io/o/r:1"}},
	}
	for _, tt := range tests {
		n, err := name.ParseReference(tt.ref)
		if err != nil {
			t.Fatal(err)
		}
		cands, err := candidates(n, regs)
		if err != nil {
			t.Fatalf("%s: %v", tt.ref, err)
		}
		var got []string
		for _, c := range cands {
			s := c.Name()
			if c.Context().Scheme() == "http" && !strings.HasPrefix(s, "127.0.0.1") {
				s += "+insecure"
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("candidates(%s) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}

func TestInsecureRegistry(t *testing.T) {
	// 127.0.0.2 is loopback, but go-containerregistry only assumes plain
	// HTTP for localhost and 127.0.0.1: elsewhere it takes the config.
	reg := startRegistryOn(t, "127.0.0.2:0")
	ref := reg.Host + "/team/app:1"
	insecure := anonymous
	insecure.Registries = map[string]Registry{reg.Host: {Insecure: true}}
	reg.push(t, "team/app:1", testImage(t, "", gzipLayer(t, map[string]string{"plain": "http\n"})))

	s := testStore(t, "", nil)
	_, err := s.Pull(context.Background(), ref, anonymous)
	var h interface{ Hint() string }
	t.Logf("error: %v; hint: %v", err, hintOf(err))
	if err == nil || !errors.As(err, &h) || !strings.Contains(h.Hint(), "insecure = true") {
		t.Fatalf("pull over HTTPS from a plain-HTTP registry: err = %v, want a hint to set insecure", err)
	}
	snap, err := s.Pull(context.Background(), ref, insecure)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLowerFile(t, snap, "plain"); got != "http\n" {
		t.Errorf("plain = %q", got)
	}

	// An insecure mirror.
	origin := startRegistry(t)
	viaMirror := anonymous
	viaMirror.Registries = map[string]Registry{
		origin.Host: {Mirrors: []string{reg.Host}},
		reg.Host:    {Insecure: true},
	}
	s = testStore(t, "", nil)
	if _, err := s.Pull(context.Background(), origin.Host+"/team/app:1", viaMirror); err != nil {
		t.Fatalf("pull through an insecure mirror: %v", err)
	}
	if n := origin.requests.Load(); n != 0 {
		t.Errorf("the origin was asked %d times; the insecure mirror had the image", n)
	}
}

func TestUnreachableRegistryHint(t *testing.T) {
	reg := startRegistry(t)
	host := reg.Host
	reg.Close()
	s := testStore(t, "", nil)
	_, err := s.Pull(context.Background(), host+"/team/app:1", anonymous)
	var h interface{ Hint() string }
	t.Logf("error: %v; hint: %v", err, hintOf(err))
	if err == nil || !errors.As(err, &h) || !strings.Contains(h.Hint(), "mirror") {
		t.Fatalf("pull from an unreachable registry: err = %v, want a hint to check the name or configure a mirror", err)
	}
	if !strings.Contains(h.Hint(), host) {
		t.Errorf("hint does not name the registry %s: %s", host, h.Hint())
	}
}

// hintOf returns the hint of err, or "".
func hintOf(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}
