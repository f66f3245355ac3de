package doctor

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestHealthyMachine(t *testing.T) {
	f := newFake(t)
	r := Run(f.m)
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
		if c.Status != OK {
			t.Errorf("%s: %s (%s)", c.Name, c.Status, c.Summary)
		}
	}
	want := "kernel, user namespaces, trial run, id map, outbound network, ports, inotify, cgroups, run state, store, user config"
	if got := strings.Join(names, ", "); got != want {
		t.Errorf("checks %s, want %s", got, want)
	}
	if r.Blocked() || f.trials != 1 {
		t.Errorf("Blocked %v, trials run %d; want false and 1", r.Blocked(), f.trials)
	}
}

func TestKernel(t *testing.T) {
	f := newFake(t)
	f.expect("kernel", expect{status: OK, summary: []string{"Linux 6.8.0-45-generic: overlay in user namespaces (userxattr), mount_setattr, openat2, pidfd, fsconfig lowerdir+"}})

	f.write("proc/sys/kernel/osrelease", "6.1.0-18-amd64")
	f.expect("kernel", expect{status: OK, summary: []string{"Linux 6.1.0-18-amd64: overlay", "; no fsconfig lowerdir+ (6.8): overlays of many layers are mounted through short links instead"}})

	f.write("proc/sys/kernel/osrelease", "5.10.0-28-amd64")
	f.expect("kernel", expect{status: Fail,
		summary: []string{"Linux 5.10.0-28-amd64 lacks overlay in user namespaces (userxattr) (5.11), mount_setattr (5.12): nook needs Linux 5.12 or later"},
		or_:     []string{"install your distribution's current kernel (Debian 12: 6.1, Ubuntu 22.04: 5.15) and reboot"}})
	if !Run(f.m).Blocked() {
		t.Error("a kernel too old does not block nook")
	}

	f.remove("proc/sys/kernel/osrelease")
	f.expect("kernel", expect{status: Warn, summary: []string{"cannot tell the kernel's release"}})
}

func TestUserNamespacesApparmor(t *testing.T) {
	f := newFake(t)
	f.write("proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1")
	f.trialErr = errRefused
	f.expect("user namespaces", expect{status: Fail,
		summary: []string{"AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1, Ubuntu 23.10 and later)"},
		fix:     []string{"sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0"},
		keep:    []string{"echo 'kernel.apparmor_restrict_unprivileged_userns = 0' | sudo tee /etc/sysctl.d/90-nook-userns.conf"},
		or_: []string{
			"leave the restriction on and give nook an AppArmor profile that allows user namespaces:",
			`printf 'abi <abi/4.0>,\ninclude <tunables/global>\nprofile nook /opt/nook/bin/nook flags=(unconfined) {\n  userns,\n}\n' | sudo tee /etc/apparmor.d/nook`,
			"sudo apparmor_parser -r /etc/apparmor.d/nook",
		}})
	f.expect("trial run", expect{status: Fail, summary: []string{"a role cannot run: creating user, mount, pid, uts and ipc namespaces"},
		or_: []string{"lift the user namespace restriction above first"}})

	// With a profile that lets nook in, the restriction does not bite.
	f.trialErr = nil
	f.expect("user namespaces", expect{status: OK, summary: []string{"AppArmor restricts", "yet nook gets them (the trial run worked"}})
}

func TestUserNamespacesDisabled(t *testing.T) {
	f := newFake(t)
	f.trialErr = errRefused
	f.write("proc/sys/kernel/unprivileged_userns_clone", "0")
	f.expect("user namespaces", expect{status: Fail,
		summary: []string{"unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0, Debian before 11)"},
		fix:     []string{"sudo sysctl kernel.unprivileged_userns_clone=1"},
		keep:    []string{"echo 'kernel.unprivileged_userns_clone = 1' | sudo tee /etc/sysctl.d/90-nook-userns.conf"}})

	f.remove("proc/sys/kernel/unprivileged_userns_clone")
	f.write("proc/sys/user/max_user_namespaces", "0")
	f.expect("user namespaces", expect{status: Fail,
		summary: []string{"user namespaces are disabled (user.max_user_namespaces = 0)"},
		fix:     []string{"sudo sysctl user.max_user_namespaces=28633"},
		keep:    []string{"echo 'user.max_user_namespaces = 28633' | sudo tee /etc/sysctl.d/90-nook-userns.conf"}})

	// The limit reached: the kernel said ENOSPC.
	f.write("proc/sys/user/max_user_namespaces", "20000")
	f.trialErr = fmt.Errorf("creating user, mount, pid, uts and ipc namespaces for nook-init: %w", syscall.ENOSPC)
	f.expect("user namespaces", expect{status: Fail,
		summary: []string{"the limit on user namespaces is reached (user.max_user_namespaces = 20000)"},
		fix:     []string{"sudo sysctl user.max_user_namespaces=40000"},
		keep:    []string{"echo 'user.max_user_namespaces = 40000' | sudo tee /etc/sysctl.d/90-nook-userns.conf"}})
}

// hinted is an error with a hint, as rootless's are.
type hinted struct{ msg, hint string }

func (e hinted) Error() string { return e.msg }
func (e hinted) Hint() string  { return e.hint }

func TestTrialFails(t *testing.T) {
	f := newFake(t)
	f.trialErr = hinted{msg: "building the role's root: mounting overlay at /x: fsconfig create: invalid argument\nmore detail",
		hint: "the kernel's overlay refused\nsee its log"}
	f.expect("trial run", expect{status: Fail,
		summary: []string{"a role cannot run: building the role's root: mounting overlay at /x: fsconfig create: invalid argument"},
		or_:     []string{"more detail", "the kernel's overlay refused", "see its log"}})

	// Without the overlay module, the fix is to load it.
	f.write("proc/filesystems", "nodev\tproc\n\text4")
	f.expect("trial run", expect{status: Fail,
		fix:  []string{"sudo modprobe overlay"},
		keep: []string{"echo overlay | sudo tee /etc/modules-load.d/nook-overlay.conf"},
		or_:  []string{"more detail", "the kernel's overlay refused", "see its log"}})
	if !Run(f.m).Blocked() {
		t.Error("a failed trial does not block nook")
	}
}

func TestTrialRunsOnTheStoresFileSystem(t *testing.T) {
	f := newFake(t)
	var dir string
	f.m.Trial = func(d string) error { dir = d; return nil }
	f.check("trial run")
	if !strings.HasPrefix(dir, f.m.StoreDir+"/tmp/nook-doctor-") {
		t.Errorf("the trial ran in %s, not in the store's tmp", dir)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the trial's directory is left: %v", err)
	}
}

func TestTrialShunsAStoreOpenToOthers(t *testing.T) {
	f := newFake(t)
	if err := os.Chmod(f.m.StoreDir, 0o777); err != nil {
		t.Fatal(err)
	}
	var dir string
	f.m.Trial = func(d string) error { dir = d; return nil }
	f.check("trial run")
	if dir == "" || strings.HasPrefix(dir, f.m.StoreDir+"/") {
		t.Errorf("the trial ran in %q, in a store others may write in", dir)
	}
}

func TestIDMap(t *testing.T) {
	f := newFake(t)
	f.expect("id map", expect{status: OK, summary: []string{"subordinate ids 100000-165535 (uid) and 100000-165535 (gid), newuidmap and newgidmap: idmap = \"full\" works (the single-id map is in use)"}})

	f.write("etc/subuid", "someone-else:100000:65536")
	// The range offered is past everyone else's: someone-else has
	// 100000-165535.
	usermod := []string{"sudo usermod --add-subuids 196608-262143 --add-subgids 196608-262143 " + f.user}
	f.expect("id map", expect{status: OK, fix: usermod,
		summary: []string{"the single-id map (the default) needs nothing; for idmap = \"full\": " + f.user + " has no subordinate ids"}})

	// Asked for in the user config, the missing range fails.
	f.write("home/me/.config/nook/config.toml", `idmap = "full"`)
	f.expect("id map", expect{status: Fail, summary: []string{"idmap = \"full\" is set, but " + f.user + " has no subordinate ids in /etc/subuid and /etc/subgid"},
		fix: usermod, or_: []string{"use the single-id map (the default: drop idmap = \"full\" from nook's user config)"}})

	// The helpers: missing, then not privileged.
	f.write("etc/subuid", strings.TrimSpace(readFile(t, f.m.path("etc/subgid"))))
	delete(f.programs, "newuidmap")
	delete(f.programs, "newgidmap")
	f.expect("id map", expect{status: Fail, summary: []string{"newuidmap and newgidmap are not installed"},
		fix: []string{"sudo apt-get install uidmap"},
		or_: []string{"on Fedora and openSUSE, install shadow-utils; or use the single-id map (drop idmap = \"full\" from nook's user config)"}})

	f.write("usr/bin/newuidmap", "")
	f.write("usr/bin/newgidmap", "")
	helper := f.m.path("usr/bin/newuidmap")
	f.expect("id map", expect{status: Fail, summary: []string{helper + " is neither setuid root nor given file capabilities"},
		fix: []string{"sudo chmod u+s " + helper + " " + f.m.path("usr/bin/newgidmap")},
		or_: []string{"give them file capabilities instead, as Fedora does:", "sudo setcap cap_setuid+ep " + helper, "sudo setcap cap_setgid+ep " + f.m.path("usr/bin/newgidmap")}})
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOutboundNetwork(t *testing.T) {
	f := newFake(t)
	f.expect("outbound network", expect{status: OK, summary: []string{"usr/bin/slirp4netns and /dev/net/tun: roles reach the network through slirp4netns"}})

	delete(f.programs, "slirp4netns")
	f.expect("outbound network", expect{status: Warn,
		summary: []string{"slirp4netns is not installed: roles on the private network get loopback only"},
		fix:     []string{"sudo apt-get install slirp4netns"},
		or_:     []string{"install the slirp4netns package with your distribution's package manager (dnf, zypper, pacman, apk)"}})

	f.programs["slirp4netns"] = "/usr/bin/slirp4netns"
	tun := f.m.path("dev/net/tun")
	f.remove("dev/net/tun")
	f.expect("outbound network", expect{status: Warn,
		summary: []string{tun + " cannot be opened (no such file or directory)"},
		fix:     []string{"sudo modprobe tun"},
		keep:    []string{"echo tun | sudo tee /etc/modules-load.d/nook-tun.conf"},
		or_: []string{"without the module loader: sudo mkdir -p /dev/net && sudo mknod -m 0666 /dev/net/tun c 10 200",
			"(in a container, give it the device: --device /dev/net/tun)"}})
	if Run(f.m).Blocked() {
		t.Error("no outbound network blocks nook")
	}

	if os.Getuid() == 0 {
		t.Skip("root opens any file: the permission case needs an ordinary user")
	}
	f.write("dev/net/tun", "")
	if err := os.Chmod(tun, 0o600&0o444); err != nil {
		t.Fatal(err)
	}
	f.expect("outbound network", expect{status: Warn,
		summary: []string{tun + " cannot be opened (permission denied)"},
		fix:     []string{"sudo chmod 0666 " + tun},
		keep:    []string{`echo 'KERNEL=="tun", MODE="0666"' | sudo tee /etc/udev/rules.d/90-nook-tun.rules`}})
}
