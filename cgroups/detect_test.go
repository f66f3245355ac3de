package cgroups

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// systemdUser lays out a desktop session under systemd's user manager:
// user@1000.service hands out cpu, memory and pids; app.slice hands out
// memory and pids; the terminal's scope holds the process.
func systemdUser(t *testing.T) *fakeRoot {
	f := newFakeRoot(t, Unified)
	f.cgroup("/user.slice", "cpu memory pids io", "cpu memory pids", "")
	f.cgroup("/user.slice/user-1000.slice", "cpu memory pids", "cpu memory pids", "")
	f.cgroup("/user.slice/user-1000.slice/user@1000.service", "cpu memory pids", "cpu memory pids", "")
	f.cgroup("/user.slice/user-1000.slice/user@1000.service/app.slice", "cpu memory pids", "memory pids", "")
	f.cgroup("/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-1.scope", "memory pids", "", "4242\n")
	f.self("/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-1.scope")
	return f
}

func TestDetectDelegated(t *testing.T) {
	f := systemdUser(t)
	h := Detect(f.root, os.Getuid())
	if h.Hierarchy != Unified || h.Reason != "" {
		t.Fatalf("Detect: hierarchy %s, reason %q; want unified and no reason", h.Hierarchy, h.Reason)
	}
	// app.slice, the nearest, hands out memory and pids and may enable cpu
	// (it holds no process): it is preferred to user@1000.service.
	if want := "/user.slice/user-1000.slice/user@1000.service/app.slice"; h.Base != want {
		t.Errorf("Base = %s, want %s", h.Base, want)
	}
	if !slices.Equal(h.Enabled, []string{"memory", "pids"}) || !slices.Equal(h.Delegated, []string{"cpu", "memory", "pids"}) {
		t.Errorf("Enabled %v, Delegated %v; want [memory pids] and [cpu memory pids]", h.Enabled, h.Delegated)
	}
	l := Limits{Memory: 1 << 30, CPUs: 1.5, Pids: 100}
	if got, why := h.Usable(l); got != l || why != "" {
		t.Errorf("Usable(%v) = %v, %q; want all of it", l, got, why)
	}
}

func TestDetectPrefersTheCgroupWithMoreControllers(t *testing.T) {
	f := systemdUser(t)
	// app.slice holds a process of its own: it cannot enable cpu, while
	// user@1000.service hands out all three.
	f.cgroup("/user.slice/user-1000.slice/user@1000.service/app.slice", "cpu memory pids", "memory pids", "77\n")
	h := Detect(f.root, os.Getuid())
	if want := "/user.slice/user-1000.slice/user@1000.service"; h.Base != want {
		t.Errorf("Base = %s, want %s", h.Base, want)
	}
}

func TestDetectNotDelegated(t *testing.T) {
	f := systemdUser(t)
	// Another user owns everything: nothing is delegated to this one.
	h := Detect(f.root, os.Getuid()+1)
	if h.Base != "" || !strings.Contains(h.Reason, "is not delegated to you") || !strings.Contains(h.Reason, "vte-spawn-1.scope") {
		t.Errorf("Detect as another user: Base %q, Reason %q; want no base and a reason naming the scope", h.Base, h.Reason)
	}
	if got, why := h.Usable(Limits{Memory: 1}); !got.IsZero() || why != h.Reason {
		t.Errorf("Usable = %v, %q; want nothing and the reason", got, why)
	}
}

func TestDetectPartlyDelegated(t *testing.T) {
	f := newFakeRoot(t, Unified)
	f.cgroup("/user.slice", "memory pids", "memory pids", "")
	f.cgroup("/user.slice/me.scope", "memory pids", "", "4242\n")
	f.self("/user.slice/me.scope")
	h := Detect(f.root, os.Getuid())
	l := Limits{Memory: 1 << 20, CPUs: 2}
	got, why := h.Usable(l)
	if got != (Limits{Memory: 1 << 20}) {
		t.Errorf("Usable(%v) = %v, want the memory limit only", l, got)
	}
	if want := "the cpu controller is not delegated to you (your cgroup /user.slice hands out only memory, pids)"; why != want {
		t.Errorf("why = %q, want %q", why, want)
	}
}

func TestDetectNoControllersToHandOut(t *testing.T) {
	f := newFakeRoot(t, Unified)
	f.cgroup("/user.slice", "", "", "")
	f.cgroup("/user.slice/me.scope", "", "", "4242\n")
	f.self("/user.slice/me.scope")
	h := Detect(f.root, os.Getuid())
	if h.Base != "" || !strings.Contains(h.Reason, "none of the cpu, memory and pids controllers") {
		t.Errorf("Base %q, Reason %q", h.Base, h.Reason)
	}
}

func TestDetectHierarchies(t *testing.T) {
	for _, tc := range []struct {
		h      Hierarchy
		reason string
	}{
		{Hybrid, "hybrid cgroups"},
		{Legacy, "cgroup v1 hierarchies only"},
		{None, "no cgroup file system"},
	} {
		t.Run(string(tc.h), func(t *testing.T) {
			f := newFakeRoot(t, tc.h)
			if tc.h == Hybrid {
				f.self("/")
			}
			h := Detect(f.root, os.Getuid())
			if h.Hierarchy != tc.h || h.Base != "" || !strings.Contains(h.Reason, tc.reason) {
				t.Errorf("Detect: %s, Base %q, Reason %q; want %s, no base, a reason with %q", h.Hierarchy, h.Base, h.Reason, tc.h, tc.reason)
			}
		})
	}
}

func TestDetectHybridReadsTheUnifiedMount(t *testing.T) {
	f := newFakeRoot(t, Hybrid)
	f.self("/user.slice/me.scope")
	h := Detect(f.root, os.Getuid())
	if h.Self != "/user.slice/me.scope" {
		t.Errorf("Self = %q: the 0:: line of a hybrid /proc/self/cgroup", h.Self)
	}
	if want := f.root + "/sys/fs/cgroup/unified/a"; h.Dir("/a") != want {
		t.Errorf("Dir(/a) = %s, want %s", h.Dir("/a"), want)
	}
}

func TestDetectWithoutOwnCgroup(t *testing.T) {
	f := newFakeRoot(t, Unified)
	f.write("proc/self/cgroup", "4:memory:/x\n")
	if h := Detect(f.root, os.Getuid()); !strings.Contains(h.Reason, "no 0:: line") {
		t.Errorf("Reason = %q", h.Reason)
	}
}
