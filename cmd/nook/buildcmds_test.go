package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/cgroups"
	"github.com/nookenv/nook/internal/testimage"
	"github.com/nookenv/nook/rootless"
)

// The fixtures of the build scripts (build_*.txtar).
func init() {
	for n, f := range buildCommands {
		scriptCommands[n] = f
	}
}

// scriptCondition answers the build scripts' conditions. Outside CI they
// say whether a fixture can be made here, so that a script skips without
// it; in CI they are always true, so that a missing prerequisite fails.
//
//	[debian]   the Debian test image can be made (mmdebstrap)
//	[fullmap]  the user has subordinate ids and newuidmap/newgidmap
//	[slirp]    slirp4netns can run here (build steps get a network of their own)
//	[podman]   podman and runc are installed, to check exports
//	[foreignfixture]  root made another user's files for the safety scripts
//	[psql]     the host has psql (Debian's postgresql-client)
func scriptCondition(cond string) (bool, error) {
	ci := os.Getenv("CI") != ""
	switch cond {
	case "foreignfixture":
		return foreignFixtureReady()
	case "debian":
		return ci || testimage.DebianAvailable() == "", nil
	case "slirp":
		return ci || rootless.OutboundUnavailable() == "", nil
	case "fullmap":
		_, _, err := rootless.SubIDs()
		return ci || err == nil, nil
	case "psql":
		_, err := exec.LookPath("psql")
		return ci || err == nil, nil
	case "limits":
		// The machine, not CI, decides: limits apply where cgroup v2's
		// memory and pids controllers are delegated to the user, and are
		// explained where they are not (this project's machines).
		_, why := cgroups.Self().Usable(cgroups.Limits{Memory: 1, Pids: 1})
		return why == "", nil
	case "podman":
		return ci || podmanAvailable() == "", nil
	case "openssh":
		// ssh-agent, ssh-add and ssh-keygen (Debian: openssh-client).
		for _, p := range []string{"ssh-agent", "ssh-add", "ssh-keygen"} {
			if _, err := exec.LookPath(p); err != nil {
				return ci, nil
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// watched holds the pidfds opened by "pidfds", by token.
var watched = map[string][]int{}

var buildCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// pushimage REPO:TAG [PATH=CONTENT...]: push the test busybox image with
	// one more layer holding the given files to $REGISTRY (start it with
	// "registry"). Pushing to a tag again moves it.
	"pushimage": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 1 {
			ts.Fatalf("usage: pushimage REPO:TAG [PATH=CONTENT...]")
		}
		push(ts, args[0], busyboxWith(ts, args[1:]))
	},
	// layoutimage DIR TAG [PATH=CONTENT...]: write the test busybox image
	// with one more layer holding the given files into a new OCI layout.
	"layoutimage": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: layoutimage DIR TAG [PATH=CONTENT...]")
		}
		dir := ts.MkAbs(args[0])
		ts.Check(os.RemoveAll(dir))
		ts.Check(testimage.WriteLayout(dir, args[1], busyboxWith(ts, args[2:])))
	},
	// debianimage: push the Debian test image (see testimage.Debian) to
	// $REGISTRY as test/debian:bookworm. Guard it with [debian].
	"debianimage": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: debianimage")
		}
		img, err := testimage.Debian()
		ts.Check(err)
		push(ts, "test/debian:"+testimage.DebianSuite, img)
	},
	// pidfds TOKEN: open a pidfd on every process whose command line holds
	// TOKEN; there must be one.
	"pidfds": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: pidfds TOKEN")
		}
		pids := processesWith(args[0])
		if len(pids) == 0 {
			ts.Fatalf("no process has %q in its command line", args[0])
		}
		for _, pid := range pids {
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue // gone already
			}
			watched[args[0]] = append(watched[args[0]], fd)
		}
	},
	// gone TOKEN: wait until every process "pidfds TOKEN" found has exited,
	// woken by its pidfd; fails after 30 seconds.
	"gone": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: gone TOKEN")
		}
		deadline := time.Now().Add(30 * time.Second)
		for _, fd := range watched[args[0]] {
			for {
				left := time.Until(deadline)
				if left <= 0 {
					ts.Fatalf("a process with %q in its command line is still running after 30s", args[0])
				}
				fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
				n, err := unix.Poll(fds, int(left/time.Millisecond))
				if err == unix.EINTR {
					continue
				}
				ts.Check(err)
				if n > 0 {
					break
				}
			}
			unix.Close(fd)
		}
		delete(watched, args[0])
	},
}

// busyboxWith is the test busybox image with one more layer holding files,
// each given as PATH=CONTENT (a newline is added).
func busyboxWith(ts *testscript.TestScript, files []string) v1.Image {
	layers, err := testimage.BusyboxLayers()
	ts.Check(err)
	var entries []testimage.Entry
	for _, a := range files {
		p, content, ok := strings.Cut(a, "=")
		if !ok {
			ts.Fatalf("%q is not PATH=CONTENT", a)
		}
		entries = append(entries, testimage.File(strings.TrimPrefix(p, "/"), content+"\n"))
	}
	img, err := testimage.Image(append(layers, testimage.Tar(entries...))...)
	ts.Check(err)
	return img
}

// push stores img in the registry at $REGISTRY as repoTag.
func push(ts *testscript.TestScript, repoTag string, img v1.Image) {
	reg := ts.Getenv("REGISTRY")
	if reg == "" {
		ts.Fatalf("no registry: run \"registry\" first")
	}
	ref, err := name.ParseReference(reg + "/" + repoTag)
	ts.Check(err)
	if err := remote.Write(ref, img); err != nil {
		ts.Fatalf("pushing %s: %v", ref, err)
	}
}

// processesWith lists the pids whose command line contains token.
func processesWith(token string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(token)) {
			pids = append(pids, pid)
		}
	}
	return pids
}
