package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fake is a machine made of a directory tree standing in for "/", and
// functions standing in for what is not a file. newFake makes a healthy
// one: a current kernel, user namespaces allowed, subordinate ids,
// slirp4netns and /dev/net/tun, cgroup v2 delegated by systemd's user
// manager, a roomy ext4 store.
type fake struct {
	t        *testing.T
	m        *Machine
	programs map[string]string // what LookPath finds
	trialErr error
	trials   int
	free     int64
	answers  map[string]error // registry host → what Ping says
	user     string           // the user's name, as /etc/subuid has it
}

func newFake(t *testing.T) *fake {
	t.Helper()
	root := t.TempDir()
	f := &fake{t: t, free: 100 << 30, answers: map[string]error{}}
	f.m = &Machine{
		Root:       root,
		UID:        os.Getuid(),
		Exe:        "/opt/nook/bin/nook",
		StoreDir:   filepath.Join(root, "home/me/.local/share/nook"),
		RunDir:     filepath.Join(root, "run/user/1000/nook"),
		ConfigPath: filepath.Join(root, "home/me/.config/nook/config.toml"),
	}
	f.m.LookPath = func(name string) (string, error) {
		if p, ok := f.programs[name]; ok {
			return p, nil
		}
		return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	f.m.FreeSpace = func(string) (int64, error) { return f.free, nil }
	f.m.Trial = func(dir string) error {
		f.trials++
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("the trial's directory %s: %v", dir, err)
		}
		return f.trialErr
	}
	f.m.Ping = func(_ context.Context, host string, _ bool) error { return f.answers[host] }

	me := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	f.user = me
	f.write("proc/sys/kernel/osrelease", "6.8.0-45-generic")
	f.write("proc/sys/user/max_user_namespaces", "63183")
	f.write("proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0")
	f.write("proc/sys/net/ipv4/ip_unprivileged_port_start", "1024")
	f.write("proc/sys/fs/inotify/max_user_watches", "65536")
	f.write("proc/sys/fs/inotify/max_user_instances", "128")
	f.write("proc/filesystems", "nodev\tproc\n\text4\nnodev\toverlay\n")
	f.write("proc/self/mountinfo", "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n")
	f.write("proc/1/comm", "systemd")
	f.write("etc/subuid", me+":100000:65536")
	f.write("etc/subgid", me+":100000:65536")
	f.write("usr/bin/slirp4netns", "")
	f.write("dev/net/tun", "")
	f.mkdir("home/me/.local/share/nook/tmp")
	if err := os.MkdirAll(f.m.path("run/user/1000"), 0o700); err != nil {
		t.Fatal(err)
	}
	f.programs = map[string]string{
		"slirp4netns": filepath.Join(root, "usr/bin/slirp4netns"),
		// The machine's own helpers: a fake cannot be setuid root.
		"newuidmap": "/usr/bin/newuidmap",
		"newgidmap": "/usr/bin/newgidmap",
	}
	f.cgroup("/", "cpu memory pids", "", "1\n")
	f.cgroup("/user.slice", "cpu memory pids", "cpu memory pids", "")
	f.cgroup("/user.slice/user-1000.slice/user@1000.service", "cpu memory pids", "cpu memory pids", "")
	f.cgroup("/user.slice/user-1000.slice/user@1000.service/app.slice", "cpu memory pids", "cpu memory pids", "")
	f.cgroup("/user.slice/user-1000.slice/user@1000.service/app.slice/vte.scope", "memory pids", "", "4242\n")
	f.write("proc/self/cgroup", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/vte.scope\n")
	return f
}

func (f *fake) mkdir(rel string) {
	f.t.Helper()
	if err := os.MkdirAll(f.m.path(rel), 0o755); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fake) write(rel, content string) {
	f.t.Helper()
	f.mkdir(filepath.Dir(rel))
	if err := os.WriteFile(f.m.path(rel), []byte(content+"\n"), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fake) remove(rel string) {
	f.t.Helper()
	if err := os.RemoveAll(f.m.path(rel)); err != nil {
		f.t.Fatal(err)
	}
}

// cgroup makes a cgroup of the fake's cgroup v2 file system.
func (f *fake) cgroup(p, controllers, subtree, procs string) {
	dir := filepath.Join("sys/fs/cgroup", p)
	f.write(filepath.Join(dir, "cgroup.controllers"), controllers)
	f.write(filepath.Join(dir, "cgroup.subtree_control"), subtree)
	f.write(filepath.Join(dir, "cgroup.procs"), strings.TrimSuffix(procs, "\n"))
}

// run runs every check and returns the one named name.
func (f *fake) check(name string) Result {
	f.t.Helper()
	for _, r := range Run(f.m).Checks {
		if r.Name == name {
			return r
		}
	}
	f.t.Fatalf("no check named %q", name)
	return Result{}
}

// expect checks a result's status, that its summary holds each of
// summary, and that its fix, keep and or lines are exactly those given
// (nil: none).
type expect struct {
	status         Status
	summary        []string
	fix, keep, or_ []string
}

func (f *fake) expect(name string, want expect) Result {
	f.t.Helper()
	r := f.check(name)
	if r.Status != want.status {
		f.t.Errorf("%s: status %s, want %s (%s)", name, r.Status, want.status, r.Summary)
	}
	for _, s := range want.summary {
		if !strings.Contains(r.Summary, s) {
			f.t.Errorf("%s: summary %q lacks %q", name, r.Summary, s)
		}
	}
	for _, l := range []struct {
		what      string
		got, want []string
	}{{"fix", r.Fix, want.fix}, {"keep", r.Keep, want.keep}, {"or", r.Or, want.or_}} {
		if fmt.Sprint(l.got) != fmt.Sprint(l.want) {
			f.t.Errorf("%s: %s lines\n%q\nwant\n%q", name, l.what, l.got, l.want)
		}
	}
	return r
}

var errRefused = errors.New("creating user, mount, pid, uts and ipc namespaces for nook-init: fork/exec /proc/self/exe: permission denied")
