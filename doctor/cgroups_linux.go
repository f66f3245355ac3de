package doctor

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/nookenv/nook/cgroups"
)

// delegateFix delegates cgroup v2 controllers to every user's systemd
// user manager, as rootless Podman's documentation does.
var delegateFix = []string{
	"sudo mkdir -p /etc/systemd/system/user@.service.d",
	`printf '[Service]\nDelegate=cpu cpuset io memory pids\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf`,
	"sudo systemctl daemon-reload",
}

// checkCgroups checks that limits can be applied: cgroup v2, and which of
// the cpu, memory and pids controllers are delegated to the user.
func checkCgroups(m *Machine) Result {
	res := Result{Name: "cgroups", Status: OK}
	h := cgroups.Detect(m.Root, m.UID)
	var limited []string
	if p := m.Project; p != nil && p.Env != nil {
		for _, n := range p.Env.RoleNames() {
			if l := p.Env.Roles[n].Limits; l.Memory > 0 || l.CPUs > 0 || l.Pids > 0 {
				limited = append(limited, n)
			}
		}
	}
	consequence := "limits (memory, cpus, pids) are not applied"
	if len(limited) > 0 {
		consequence = "the limits of " + plural("role", limited) + " are not applied"
	}
	if len(h.Delegated) == 3 {
		res.Summary = fmt.Sprintf("cgroup v2, with cpu, memory and pids delegated to you: each role run with limits gets a cgroup under %s", h.Base)
		return res
	}
	res.Status = Warn
	switch {
	case h.Base != "":
		var missing []string
		for _, c := range []string{"cpu", "memory", "pids"} {
			if !slices.Contains(h.Delegated, c) {
				missing = append(missing, c)
			}
		}
		res.Summary = fmt.Sprintf("cgroup v2, but %s not delegated to you (only %s, under %s): those limits are not applied",
			strings.Join(missing, " and "), strings.Join(h.Delegated, ", "), h.Base)
		res.Fix = delegateFix
		res.Or = []string{"then log out and in again: your user manager restarts with them"}
	case h.Hierarchy == cgroups.Unified && strings.Contains(h.Reason, "is not delegated to you"):
		res.Summary = consequence + ": " + h.Reason
		res.Fix = []string{"systemd-run --user --scope --quiet nook run ROLE"}
		res.Keep = []string{`echo "alias nook='systemd-run --user --scope --quiet nook'" >> ~/.bashrc`}
		res.Or = []string{"(that runs nook in a scope of your systemd user manager; a graphical session's terminal runs there already)"}
	case h.Hierarchy == cgroups.Unified:
		res.Summary = consequence + ": " + h.Reason
		res.Fix = delegateFix
		res.Or = []string{"then log out and in again: your user manager restarts with them"}
	case h.Hierarchy == cgroups.Hybrid || h.Hierarchy == cgroups.Legacy:
		res.Summary = consequence + ": " + h.Reason
		if systemdInit(m) {
			res.Fix = []string{
				`sudo sed -i 's/^GRUB_CMDLINE_LINUX="/&systemd.unified_cgroup_hierarchy=1 /' /etc/default/grub`,
				"sudo update-grub",
				"sudo reboot",
			}
			res.Or = []string{"on Fedora and RHEL: sudo grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1, then reboot"}
		} else {
			res.Or = []string{"this machine's init is not systemd: have it mount cgroup2 alone at /sys/fs/cgroup,",
				"or boot the kernel with cgroup_no_v1=all, which leaves every controller to cgroup v2"}
		}
	default:
		res.Summary = consequence + ": " + h.Reason
		res.Fix = []string{"sudo mount -t cgroup2 none /sys/fs/cgroup"}
		res.Or = []string{"(systemd mounts it at boot; without systemd, your init must)"}
	}
	return res
}

// systemdInit reports whether pid 1 is systemd.
func systemdInit(m *Machine) bool {
	b, err := os.ReadFile(m.path("proc/1/comm"))
	return err == nil && strings.TrimSpace(string(b)) == "systemd"
}

// plural is "role web" or "roles web, db".
func plural(noun string, names []string) string {
	if len(names) == 1 {
		return noun + " " + names[0]
	}
	return noun + "s " + joinList(names)
}
