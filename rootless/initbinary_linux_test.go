package rootless

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nookenv/nook/internal/companion"
)

// withInit makes nook-init path (instead of the test binary) for the test.
func withInit(t *testing.T, path string) {
	t.Helper()
	saved := initBinary
	initBinary = func() (string, error) { return path, nil }
	t.Cleanup(func() { initBinary = saved })
}

// wantInitError checks that err is nook's own (status 125), that its
// message holds msg and its hint says how to install nook-init.
func wantInitError(t *testing.T, code int, err error, msg string) {
	t.Helper()
	var hinter interface{ Hint() string }
	if !errors.As(err, &hinter) {
		t.Fatalf("status %d, error %v (%T), want one with a hint", code, err, err)
	}
	var coder interface{ ExitCode() int }
	if code != 125 || errors.As(err, &coder) && coder.ExitCode() != 125 {
		t.Errorf("status %d, error %v, want 125", code, err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
	if !strings.Contains(hinter.Hint(), "go install github.com/nookenv/nook/cmd/...") {
		t.Errorf("hint %q does not say how to install nook-init", hinter.Hint())
	}
}

func hostTrue() *Spec {
	return &Spec{Process: Process{Args: []string{"true"}, Env: []string{"PATH=/usr/bin:/bin"}, Cwd: "/"}}
}

func TestRunWithoutInit(t *testing.T) {
	missing := filepath.Join(t.TempDir(), InitName)
	withInit(t, missing)
	code, _, err := run(t, hostTrue())
	wantInitError(t, code, err, missing+" is missing")
}

func TestRunInitNotExecutable(t *testing.T) {
	path := filepath.Join(t.TempDir(), InitName)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withInit(t, path)
	code, _, err := run(t, hostTrue())
	wantInitError(t, code, err, path+" is not an executable file")
}

// TestRunInitOfAnotherBuild starts the test binary as nook-init while this
// process claims another build: the init refuses to run the role.
func TestRunInitOfAnotherBuild(t *testing.T) {
	saved := buildID
	buildID = func() string { return "v0.0.1/go1.0/x" }
	t.Cleanup(func() { buildID = saved })
	code, out, err := run(t, hostTrue())
	wantInitError(t, code, err, "is not from nook's build: it is "+saved()+", nook is v0.0.1/go1.0/x")
	if out != "" {
		t.Errorf("the role ran: output %q", out)
	}
}

func TestJoinPodWithoutInit(t *testing.T) {
	missing := filepath.Join(t.TempDir(), InitName)
	withInit(t, missing)
	_, err := JoinPod(PodOptions{Dir: filepath.Join(t.TempDir(), "p"), Project: "test-id", Name: "test"})
	wantInitError(t, 125, err, missing+" is missing")
}

// TestPodOfAnotherBuild starts the test binary as the pod while this
// process claims another build: the pod refuses to start.
func TestPodOfAnotherBuild(t *testing.T) {
	saved := buildID
	buildID = func() string { return "v0.0.1/go1.0/x" }
	t.Cleanup(func() { buildID = saved })
	_, err := JoinPod(PodOptions{Dir: filepath.Join(t.TempDir(), "p"), Project: "test-id", Name: "test"})
	wantInitError(t, 125, err, "is not from nook's build")
}

// The build id's digest is a constant: it must change with the messages.
func TestProtocolDigest(t *testing.T) {
	if d := companion.Digest(protocol...); d != protocolDigest {
		t.Errorf("the messages between nook and nook-init changed: set protocolDigest in rootless/initbinary_linux.go to %q", d)
	}
}
