package doctor

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nookenv/nook/env"
)

// project gives the fake a valid project in dir with roles.
func (f *fake) project(image string, roles map[string]*env.Role) *env.Env {
	f.t.Helper()
	dir := f.m.path("home/me/src/app")
	f.mkdir("home/me/src/app")
	e := &env.Env{File: filepath.Join(dir, "nook.toml"), ProjectDir: dir, Project: "app", ProjectID: "0123456789ab",
		Image: image, ImageRef: image, Roles: roles}
	for n, r := range roles {
		r.Name = n
	}
	f.m.Project = &Project{File: "nook.toml", Env: e}
	return e
}

func TestPorts(t *testing.T) {
	f := newFake(t)
	f.expect("ports", expect{status: OK, summary: []string{"host ports from 1024 up can be published (net.ipv4.ip_unprivileged_port_start = 1024)"}})

	f.project("host", map[string]*env.Role{
		"web":   {Ports: []env.Port{{HostPort: 80, RolePort: 8080, Proto: "tcp"}, {HostPort: 8443, RolePort: 443, Proto: "tcp"}}},
		"proxy": {Ports: []env.Port{{HostPort: 443, RolePort: 443, Proto: "tcp"}}},
	})
	f.expect("ports", expect{status: Fail,
		summary: []string{"the project publishes host ports below 1024, which nook cannot bind: 80 (role web), 443 (role proxy)"},
		fix:     []string{"sudo sysctl net.ipv4.ip_unprivileged_port_start=80"},
		keep:    []string{"echo 'net.ipv4.ip_unprivileged_port_start = 80' | sudo tee /etc/sysctl.d/90-nook-ports.conf"},
		or_:     []string{`publish a host port of 1024 or more instead (e.g. "8080:8080")`}})

	f.write("proc/sys/net/ipv4/ip_unprivileged_port_start", "0")
	f.expect("ports", expect{status: OK, summary: []string{"host ports from 0 up"}})
}

// inotifyUser gives a process of the fake's /proc an inotify instance
// holding watches watches.
func (f *fake) inotifyUser(pid, fd, watches int) {
	f.t.Helper()
	p := filepath.Join("proc", strconv.Itoa(pid))
	f.mkdir(filepath.Join(p, "fd"))
	if err := os.Symlink("anon_inode:inotify", f.m.path(filepath.Join(p, "fd", strconv.Itoa(fd)))); err != nil {
		f.t.Fatal(err)
	}
	info := "pos:\t0\nflags:\t02004000\nmnt_id:\t15\n"
	for i := range watches {
		info += "inotify wd:" + strconv.Itoa(i+1) + " ino:1 sdev:1 mask:fc6 ignored_mask:0\n"
	}
	f.write(filepath.Join(p, "fdinfo", strconv.Itoa(fd)), info)
}

func TestInotify(t *testing.T) {
	f := newFake(t)
	f.inotifyUser(100, 5, 40)
	f.inotifyUser(100, 6, 2)
	if err := os.Symlink("/dev/null", f.m.path("proc/100/fd/0")); err != nil {
		t.Fatal(err)
	}
	f.expect("inotify", expect{status: OK, summary: []string{"watches: 42 of 65536 in use; instances: 2 of 128 in use"}})

	// A project whose role watches src: the project directory, src and
	// its two subdirectories (node_modules is ignored by .gitignore).
	e := f.project("host", map[string]*env.Role{"build": {Watch: []string{"src/**/*.go"}}})
	for _, d := range []string{"src/a", "src/b", "node_modules/x"} {
		f.mkdir(filepath.Join("home/me/src/app", d))
	}
	if err := os.WriteFile(filepath.Join(e.ProjectDir, ".gitignore"), []byte("node_modules/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.expect("inotify", expect{status: OK, summary: []string{"; nook watch needs 4 watches and 1 instance for this project"}})

	f.write("proc/sys/fs/inotify/max_user_watches", "45")
	f.expect("inotify", expect{status: Fail,
		summary: []string{"too few inotify watches left for this project: nook watch cannot watch it all (watches: 42 of 45 in use"},
		fix:     []string{"sudo sysctl fs.inotify.max_user_watches=524288"},
		keep:    []string{"echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-nook-inotify.conf"}})

	f.write("proc/sys/fs/inotify/max_user_watches", "48")
	f.expect("inotify", expect{status: Warn, summary: []string{"few inotify watches to spare for this project"},
		fix:  []string{"sudo sysctl fs.inotify.max_user_watches=524288"},
		keep: []string{"echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-nook-inotify.conf"}})

	f.write("proc/sys/fs/inotify/max_user_watches", "65536")
	f.write("proc/sys/fs/inotify/max_user_instances", "2")
	f.expect("inotify", expect{status: Fail, summary: []string{"out of inotify instances: nook watch cannot start"},
		fix:  []string{"sudo sysctl fs.inotify.max_user_instances=512"},
		keep: []string{"echo fs.inotify.max_user_instances=512 | sudo tee /etc/sysctl.d/90-nook-inotify.conf"}})

	// Outside a project that watches, full instances only warn.
	f.m.Project = nil
	f.expect("inotify", expect{status: Warn, summary: []string{"nearly out of inotify instances"},
		fix:  []string{"sudo sysctl fs.inotify.max_user_instances=512"},
		keep: []string{"echo fs.inotify.max_user_instances=512 | sudo tee /etc/sysctl.d/90-nook-inotify.conf"}})

	f.remove("proc/sys/fs/inotify")
	f.expect("inotify", expect{status: Warn, summary: []string{"cannot read the inotify limits"}})
}

var delegate = []string{
	"sudo mkdir -p /etc/systemd/system/user@.service.d",
	`printf '[Service]\nDelegate=cpu cpuset io memory pids\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf`,
	"sudo systemctl daemon-reload",
}

func TestCgroups(t *testing.T) {
	f := newFake(t)
	app := "/user.slice/user-1000.slice/user@1000.service/app.slice"
	f.expect("cgroups", expect{status: OK, summary: []string{"cgroup v2, with cpu, memory and pids delegated to you: each role run with limits gets a cgroup under " + app}})

	// cpu is not delegated.
	for _, p := range []string{"/user.slice", "/user.slice/user-1000.slice/user@1000.service", app} {
		f.cgroup(p, "memory pids", "memory pids", "")
	}
	f.project("host", map[string]*env.Role{"web": {Limits: env.Limits{CPUs: 2}}, "db": {Limits: env.Limits{Memory: 1 << 30}}, "test": {}})
	f.expect("cgroups", expect{status: Warn,
		summary: []string{"cgroup v2, but cpu not delegated to you (only memory, pids, under " + app + "): those limits are not applied"},
		fix:     delegate, or_: []string{"then log out and in again: your user manager restarts with them"}})

	// Nothing above the process is the user's: a login outside the user
	// manager (here: the cgroups belong to someone else).
	f.m.UID++
	f.expect("cgroups", expect{status: Warn,
		summary: []string{"your cgroup " + app + "/vte.scope is not delegated to you", "the limits of roles db, web are not applied"},
		fix:     []string{"systemd-run --user --scope --quiet nook run ROLE"},
		keep:    []string{`echo "alias nook='systemd-run --user --scope --quiet nook'" >> ~/.bashrc`},
		or_:     []string{"(that runs nook in a scope of your systemd user manager; a graphical session's terminal runs there already)"}})
	f.m.UID--

	// Owned, but with no controllers to hand out.
	for _, p := range []string{"/user.slice", "/user.slice/user-1000.slice/user@1000.service", app} {
		f.cgroup(p, "", "", "")
	}
	f.expect("cgroups", expect{status: Warn, summary: []string{"limits of roles db, web are not applied: the cgroups above"},
		fix: delegate, or_: []string{"then log out and in again: your user manager restarts with them"}})
}

func TestCgroupsHybrid(t *testing.T) {
	f := newFake(t)
	f.remove("sys/fs/cgroup")
	for _, c := range []string{"memory", "pids", "cpu"} {
		f.mkdir("sys/fs/cgroup/" + c)
	}
	f.write("sys/fs/cgroup/unified/cgroup.controllers", "")
	f.write("proc/self/cgroup", "4:memory:/\n0::/")
	f.expect("cgroups", expect{status: Warn,
		summary: []string{"limits (memory, cpus, pids) are not applied: the controllers are on cgroup v1 hierarchies (hybrid cgroups"},
		fix: []string{`sudo sed -i 's/^GRUB_CMDLINE_LINUX="/&systemd.unified_cgroup_hierarchy=1 /' /etc/default/grub`,
			"sudo update-grub", "sudo reboot"},
		or_: []string{"on Fedora and RHEL: sudo grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1, then reboot"}})

	f.write("proc/1/comm", "init")
	f.expect("cgroups", expect{status: Warn, summary: []string{"hybrid cgroups"},
		or_: []string{"this machine's init is not systemd: have it mount cgroup2 alone at /sys/fs/cgroup,",
			"or boot the kernel with cgroup_no_v1=all, which leaves every controller to cgroup v2"}})

	f.remove("sys/fs/cgroup")
	f.expect("cgroups", expect{status: Warn, summary: []string{"no cgroup file system is mounted at /sys/fs/cgroup"},
		fix: []string{"sudo mount -t cgroup2 none /sys/fs/cgroup"}, or_: []string{"(systemd mounts it at boot; without systemd, your init must)"}})
	if Run(f.m).Blocked() {
		t.Error("cgroups without delegation block nook")
	}
}

func TestStore(t *testing.T) {
	f := newFake(t)
	store := f.m.StoreDir
	f.expect("store", expect{status: OK, summary: []string{store + " on ext4, 100GiB free"}})

	moveIt := []string{"put the store on a local file system: export NOOK_HOME=/a/directory/on/ext4-or-xfs",
		"(in a container, on a volume), and keep it in your shell's profile:",
		`echo 'export NOOK_HOME=/a/directory/on/ext4-or-xfs' >> ~/.profile`}
	real, _ := filepath.EvalSymlinks(f.m.path("home"))
	f.write("proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"+
		"40 22 0:40 / "+real+" rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n")
	f.expect("store", expect{status: Warn, summary: []string{store + " is on overlayfs (nook in a container?): a layer that deletes files (a whiteout) cannot be unpacked there"},
		or_: moveIt})

	f.write("proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"+
		"40 22 0:40 / "+real+" rw shared:5 - nfs4 server:/home rw\n")
	f.expect("store", expect{status: Warn, summary: []string{store + " is on a network file system (nfs4)"}, or_: moveIt})

	// Not made yet: its parent's file system is the one.
	f.write("proc/self/mountinfo", "22 1 8:1 / / rw - xfs /dev/sda1 rw\n")
	f.remove("home/me/.local/share/nook")
	f.free = 1 << 30
	f.expect("store", expect{status: Warn, summary: []string{store + " (not made yet) on xfs has 1GiB free: large images will not fit"},
		fix: []string{"nook gc"}, or_: []string{"nook gc --volumes also removes the volumes of projects that are gone"}})

	f.free = 100 << 20
	f.expect("store", expect{status: Fail, summary: []string{"has 100MiB free: pulls and builds will fail"},
		fix: []string{"nook gc"}, or_: []string{"nook gc --volumes also removes the volumes of projects that are gone"}})

	f.m.FreeSpace = func(string) (int64, error) { return 0, errors.New("statfs: no") }
	f.expect("store", expect{status: Warn, summary: []string{"free space unknown (statfs: no)"}})
}

func TestMountType(t *testing.T) {
	dir := t.TempDir()
	info := filepath.Join(dir, "mountinfo")
	os.WriteFile(info, []byte("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"+
		"2 1 0:2 / /home/me/my\\040files rw - btrfs /dev/sdb rw\n"+
		"3 1 0:3 / /home rw - xfs /dev/sdc rw\n"+
		"4 1 0:4 / /home rw - zfs tank rw\n"), 0o644)
	for path, want := range map[string]string{
		"/home/me/my files/nook": "btrfs",
		"/home/me/my":            "zfs", // the later mount on /home hides the earlier
		"/var/lib":               "ext4",
		"/homeless":              "ext4",
	} {
		if got := mountType(info, path); got != want {
			t.Errorf("mountType(%s) = %q, want %q", path, got, want)
		}
	}
}

func TestRunState(t *testing.T) {
	f := newFake(t)
	dir := f.m.RunDir
	f.expect("run state", expect{status: OK, summary: []string{dir + " will be made, mode 0700, by the first command that needs it"}})
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("doctor made %s (%v): it makes nothing", dir, err)
	}

	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f.expect("run state", expect{status: OK, summary: []string{dir + " is yours, mode 0700"}})

	// Made by someone who opened it to others: nook refuses it, and so
	// says doctor, with the fix the commands give.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	f.expect("run state", expect{status: Fail,
		summary: []string{dir + " has mode 0777: other users can put files in it: every command refuses to use it"},
		or_:     []string{"it may hold what others put there: remove it with all it holds (rm -r " + dir + "), and nook makes it afresh with mode 0700"}})

	// A link in its place.
	f.remove("run/user/1000/nook")
	if err := os.Symlink(t.TempDir(), dir); err != nil {
		t.Fatal(err)
	}
	r := f.expect("run state", expect{status: Fail, summary: []string{dir + " is a symbolic link"},
		or_: []string{"nook follows no link here: remove it (rm " + dir + "), and nook makes the directory itself"}})
	if !strings.Contains(r.Summary, "the run-state directory") {
		t.Errorf("summary %q does not name what the directory is", r.Summary)
	}
}
