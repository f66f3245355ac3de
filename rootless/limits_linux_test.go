package rootless

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nookenv/nook/cgroups"
)

// TestLimits runs roles with limits in real cgroups, directly and in a
// pod, and one beyond its memory limit. It needs a cgroup v2 memory
// controller delegated to the user, as systemd's user@.service gives on
// current distributions, and skips without one. It is the one test of
// nook allowed to skip in CI: the project's machines run hybrid cgroups
// (v1 controllers) with nothing delegated, where limits cannot be applied
// at all. What does not need the kernel is tested against fake cgroup
// trees in package cgroups; nook doctor and the run's warning say why
// limits are not applied here.
func TestLimits(t *testing.T) {
	h := cgroups.Self()
	if !slices.Contains(h.Delegated, "memory") {
		why := h.Reason
		if why == "" {
			why = "the cgroup delegated to you (" + h.Base + ") has no memory controller to hand out"
		}
		t.Skipf("no cgroup v2 memory controller is delegated to uid %d here, so limits cannot be applied: %s", os.Getuid(), why)
	}
	t.Run("applied", func(t *testing.T) { testLimitsApplied(t, h) })
	t.Run("oom", func(t *testing.T) { testLimitsOutOfMemory(t, h) })
}

// limitsScript prints the limits of the cgroup the command runs in, then
// that cgroup's path.
const limitsScript = `cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
cat /sys/fs/cgroup$cg/memory.max /sys/fs/cgroup$cg/pids.max
echo $cg`

func testLimitsApplied(t *testing.T, h *cgroups.Host) {
	w := hostWorld(t)
	check := func(t *testing.T, out string) {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || lines[0] != "67108864" || lines[1] != "64" {
			t.Fatalf("the command's cgroup has memory.max, pids.max = %q; want 67108864 and 64", lines)
		}
		cg := lines[2]
		if want := h.Base + "/" + cgroups.Name("test", os.Getpid()); cg != want {
			t.Errorf("the command ran in cgroup %s, want %s", cg, want)
		}
		if _, err := os.Stat(h.Dir(cg)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s is left after the role ended (%v)", cg, err)
		}
	}
	limits := cgroups.Limits{Memory: 64 << 20, Pids: 64}
	t.Run("direct", func(t *testing.T) {
		spec := w.spec(t, limitsScript)
		spec.Role, spec.Limits = "test", limits
		code, out := mustRun(t, spec)
		if code != 0 {
			t.Fatalf("status %d, output %q", code, out)
		}
		check(t, out)
	})
	t.Run("pod", func(t *testing.T) {
		pod := joinPod(t, newPodDir(t))
		spec := privateSpec(t, w, limitsScript)
		spec.Limits = limits
		code, out := mustPodRun(t, pod, spec)
		if code != 0 {
			t.Fatalf("status %d, output %q", code, out)
		}
		check(t, out)
	})
}

func testLimitsOutOfMemory(t *testing.T, h *cgroups.Host) {
	w := hostWorld(t)
	// tail looks for the last lines of an endless file without a newline:
	// it keeps all of it, until the OOM killer ends it.
	spec := w.spec(t, "exec tail /dev/zero")
	spec.Role, spec.Limits = "hog", cgroups.Limits{Memory: 32 << 20}
	code, _, err := run(t, spec)
	var oom *OOMError
	if !errors.As(err, &oom) || code != 137 || oom.ExitCode() != 137 {
		t.Fatalf("Run of a command beyond its memory limit: status %d, error %v; want 137 and an *OOMError", code, err)
	}
	if want := "role hog was killed: out of memory (limit 32MiB)"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if _, serr := os.Stat(filepath.Join(h.Dir(h.Base), cgroups.Name("hog", os.Getpid()))); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("the role's cgroup is left after it was killed (%v)", serr)
	}
}
