package mounts_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// scenarios are the checks each child scenario runs from inside the new
// root, after Apply. The parent expects a result for every one.
var scenarios = map[string][]check{
	"image": {
		{"working directory is /", func(*childInput) error { return wantCwd("/") }},
		{"busybox from the lower layer runs", func(*childInput) error { return wantOutput("/bin/sh", "-c", "echo $((6*7))")("42\n") }},
		{"files from both layers are visible", func(*childInput) error {
			return errors.Join(wantContent("/lower-only.txt", "lower\n"), wantContent("/top.txt", "top\n"))
		}},
		{"the top layer's file wins", func(*childInput) error { return wantContent("/both.txt", "top\n") }},
		{"a whiteout hides the lower file", func(*childInput) error { return wantErrno(statErr("/gone.txt"), unix.ENOENT) }},
		{"an opaque dir hides the lower contents", func(*childInput) error { return wantDir("/opq", "new.txt") }},
		{"/ is writable", func(*childInput) error {
			if err := os.WriteFile("/written.txt", []byte("w\n"), 0o644); err != nil {
				return err
			}
			if err := os.Mkdir("/bin/newdir", 0o755); err != nil {
				return err
			}
			return wantContent("/written.txt", "w\n")
		}},
		{"the project dir is at /work, read-write, not through /work -> /etc", func(*childInput) error {
			if err := wantContent("/work/hello.txt", "hello\n"); err != nil {
				return err
			}
			if err := wantKind("/work", unix.S_IFDIR); err != nil {
				return err
			}
			if err := os.WriteFile("/work/created.txt", []byte("made inside\n"), 0o644); err != nil {
				return err
			}
			return errors.Join(wantErrno(statErr("/etc/hello.txt"), unix.ENOENT), wantContent("/etc/os-release", "ID=nooktest\n"))
		}},
		{"a read-only mount refuses writes", func(*childInput) error {
			if err := wantContent("/data/ro.txt", "read me\n"); err != nil {
				return err
			}
			return errors.Join(
				wantErrno(os.WriteFile("/data/new.txt", nil, 0o644), unix.EROFS),
				wantErrno(os.Remove("/data/ro.txt"), unix.EROFS))
		}},
		{"a file mount is a file, read-only", func(*childInput) error {
			if err := wantContent("/root/.gitconfig", gitconfigContent); err != nil {
				return err
			}
			return wantErrno(os.WriteFile("/root/.gitconfig", nil, 0o644), unix.EROFS)
		}},
		{"the volume is writable", func(*childInput) error { return os.WriteFile("/vol/v.txt", []byte("kept\n"), 0o644) }},
		{"mounts through symlinks that leave the image land inside the root", func(*childInput) error {
			return errors.Join(wantContent("/deep/m/marker", insideContent), wantContent("/abs/n/marker", insideContent))
		}},
		{"the role's workdir exists", func(*childInput) error { return wantKind("/srv/app", unix.S_IFDIR) }},
		{"/dev/null, /dev/zero and /dev/urandom work", func(*childInput) error { return checkDevices() }},
		{"/dev/pts is a private devpts and /dev/ptmx opens", func(*childInput) error { return checkPts() }},
		{"/dev/fd and /dev/stdin lead to /proc/self/fd", func(*childInput) error {
			return errors.Join(wantLink("/dev/fd", "/proc/self/fd"), wantLink("/dev/stdin", "/proc/self/fd/0"))
		}},
		{"/dev/shm and /tmp are tmpfs, mode 1777", func(*childInput) error {
			return errors.Join(wantTmpfs1777("/dev/shm"), wantTmpfs1777("/tmp"))
		}},
		{"/proc shows this process as pid 1", func(*childInput) error { return wantLink("/proc/self", "1") }},
		{"/etc/hostname, /etc/hosts and /etc/resolv.conf are nook's", checkEtc},
		{"the old root is gone", checkOldRootGone},
	},
	"ro-symlink": {
		{"a file bound onto a symlink in a read-only dir lands on the link's target", func(*childInput) error {
			return errors.Join(wantContent("/ro/real", "bound\n"), wantKind("/ro/link", unix.S_IFLNK), wantContent("/ro/link", "bound\n"))
		}},
		{"the read-only dir stays read-only", func(*childInput) error {
			return wantErrno(os.WriteFile("/ro/new", nil, 0o644), unix.EROFS)
		}},
	},
	"layers":         layerChecks(false),
	"layers-classic": layerChecks(true),
	"host": {
		{"working directory is /", func(*childInput) error { return wantCwd("/") }},
		{"the host's /bin/sh runs", func(*childInput) error { return wantOutput("/bin/sh", "-c", "echo ok")("ok\n") }},
		{"host directories are read-only", func(*childInput) error {
			return errors.Join(wantErrno(os.WriteFile("/usr/nook-test", nil, 0o644), unix.EROFS), wantErrno(os.Mkdir("/etc/nook-test", 0o755), unix.EROFS))
		}},
		{"new top-level dirs can be made", func(*childInput) error { return os.Mkdir("/nook-new", 0o755) }},
		{"the project dir is at /work, read-write", func(*childInput) error {
			if err := wantContent("/work/hello.txt", "hello\n"); err != nil {
				return err
			}
			return os.WriteFile("/work/created.txt", []byte("made inside\n"), 0o644)
		}},
		{"/tmp is a fresh tmpfs", func(*childInput) error { return errors.Join(wantTmpfs1777("/tmp"), wantDir("/tmp")) }},
		{"/proc shows this process as pid 1", func(*childInput) error { return wantLink("/proc/self", "1") }},
		{"/dev/null works", func(*childInput) error { return checkDevices() }},
		{"/etc/hostname, /etc/hosts and /etc/resolv.conf are nook's", checkEtc},
		{"the old root is gone", checkOldRootGone},
	},
}

// layerChecks are the checks of a root stacked from many layers, mounted
// with "lowerdir+" or, when classic, with mount(2) and short names.
func layerChecks(classic bool) []check {
	how := check{"the overlay was mounted with lowerdir+", func(*childInput) error {
		opts, err := rootSuperOptions()
		if err == nil && (!strings.Contains(opts, "lowerdir+=") || strings.Contains(opts, "upperdir=upper")) {
			err = fmt.Errorf("root mount options %q show no lowerdir+, or mount(2)'s short names", opts)
		}
		return err
	}}
	if classic {
		how = check{"the overlay was mounted with mount(2) and short names", func(*childInput) error {
			opts, err := rootSuperOptions()
			if err == nil && !strings.Contains(opts, "lowerdir=0:1:2:") {
				err = fmt.Errorf("root mount options %q lack the short lower names", opts)
			}
			return err
		}}
	}
	return []check{
		{"every layer is visible", func(in *childInput) error {
			var errs []error
			for i := range in.Layers {
				errs = append(errs, wantContent(fmt.Sprintf("/f%03d", i), fmt.Sprint(i)))
			}
			return errors.Join(errs...)
		}},
		{"the top layer's file wins", func(in *childInput) error { return wantContent("/top.txt", fmt.Sprint(in.Layers-1)) }},
		{"/ is writable", func(*childInput) error { return os.WriteFile("/written.txt", nil, 0o644) }},
		how,
	}
}

func checkDevices() error {
	if err := os.WriteFile("/dev/null", []byte("discard"), 0); err != nil {
		return err
	}
	if b, err := os.ReadFile("/dev/null"); err != nil || len(b) != 0 {
		return fmt.Errorf("reading /dev/null: %q, %v", b, err)
	}
	for _, dev := range []string{"/dev/zero", "/dev/urandom"} {
		f, err := os.Open(dev)
		if err != nil {
			return err
		}
		buf := make([]byte, 64)
		_, err = f.Read(buf)
		f.Close()
		if err != nil {
			return fmt.Errorf("reading %s: %w", dev, err)
		}
		if dev == "/dev/zero" && slices.ContainsFunc(buf, func(b byte) bool { return b != 0 }) {
			return fmt.Errorf("/dev/zero gave %x", buf)
		}
	}
	return nil
}

func checkPts() error {
	var sfs unix.Statfs_t
	if err := unix.Statfs("/dev/pts", &sfs); err != nil {
		return err
	}
	if sfs.Type != unix.DEVPTS_SUPER_MAGIC {
		return fmt.Errorf("/dev/pts is filesystem %#x, not devpts", sfs.Type)
	}
	if err := wantDir("/dev/pts", "ptmx"); err != nil {
		return fmt.Errorf("a new devpts instance holds only ptmx: %w", err)
	}
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return err
	}
	defer ptmx.Close()
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("TIOCGPTN: %w", err)
	}
	return wantKind(fmt.Sprintf("/dev/pts/%d", n), unix.S_IFCHR)
}

func checkEtc(in *childInput) error {
	hosts, err := os.ReadFile("/etc/hosts")
	if err == nil && !strings.Contains(string(hosts), "127.0.1.1\t"+in.Hostname+"\n") {
		err = fmt.Errorf("/etc/hosts %q does not map %s", hosts, in.Hostname)
	}
	return errors.Join(err,
		wantContent("/etc/hostname", in.Hostname+"\n"),
		wantContent("/etc/resolv.conf", in.ResolvConf),
		wantKind("/etc/resolv.conf", unix.S_IFREG))
}

// checkOldRootGone: no mount of the host's root filesystem at its top
// (the old root) and nothing at the scratch path is left in this
// namespace, and the root is what the plan mounted.
func checkOldRootGone(in *childInput) error {
	mounts, err := readMountinfo()
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if m.dev == in.HostRoot && m.root == "/" {
			return fmt.Errorf("the host's root filesystem is still mounted at %s", m.point)
		}
		if m.point == in.Scratch {
			return fmt.Errorf("the scratch tmpfs is still visible at %s", m.point)
		}
	}
	return wantErrno(statErr(in.Scratch), unix.ENOENT)
}

type mountinfo struct {
	dev             uint64
	root, point, fs string
	superOptions    string
}

func readMountinfo() ([]mountinfo, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountinfo
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		pre, post, _ := strings.Cut(sc.Text(), " - ")
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(a) < 5 || len(b) < 3 {
			continue
		}
		majS, minS, _ := strings.Cut(a[2], ":")
		maj, _ := strconv.ParseUint(majS, 10, 32)
		mnr, _ := strconv.ParseUint(minS, 10, 32)
		out = append(out, mountinfo{dev: unix.Mkdev(uint32(maj), uint32(mnr)), root: a[3], point: a[4], fs: b[0], superOptions: b[2]})
	}
	return out, sc.Err()
}

// rootSuperOptions are the overlay options of the mount at "/".
func rootSuperOptions() (string, error) {
	mounts, err := readMountinfo()
	if err != nil {
		return "", err
	}
	for _, m := range slices.Backward(mounts) {
		if m.point == "/" {
			if m.fs != "overlay" {
				return "", fmt.Errorf("/ is %s, not overlay", m.fs)
			}
			return m.superOptions, nil
		}
	}
	return "", errors.New("no mount at /")
}

func wantCwd(want string) error {
	wd, err := unix.Getwd()
	if err == nil && wd != want {
		err = fmt.Errorf("working directory %s, want %s", wd, want)
	}
	return err
}

func wantOutput(name string, args ...string) func(want string) error {
	return func(want string) error {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", name, err, out)
		}
		if string(out) != want {
			return fmt.Errorf("%s printed %q, want %q", name, out, want)
		}
		return nil
	}
}

func wantContent(p, want string) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if string(b) != want {
		return fmt.Errorf("%s holds %q, want %q", p, b, want)
	}
	return nil
}

// wantDir checks the directory p holds exactly names.
func wantDir(p string, names ...string) error {
	entries, err := os.ReadDir(p)
	if err != nil {
		return err
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		return fmt.Errorf("%s holds %v, want %v", p, got, names)
	}
	return nil
}

func wantKind(p string, kind uint32) error {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != kind {
		return fmt.Errorf("%s has type %#o, want %#o", p, st.Mode&unix.S_IFMT, kind)
	}
	return nil
}

func wantLink(p, want string) error {
	got, err := os.Readlink(p)
	if err == nil && got != want {
		err = fmt.Errorf("%s links to %s, want %s", p, got, want)
	}
	return err
}

func wantTmpfs1777(p string) error {
	var sfs unix.Statfs_t
	if err := unix.Statfs(p, &sfs); err != nil {
		return err
	}
	if sfs.Type != unix.TMPFS_MAGIC {
		return fmt.Errorf("%s is filesystem %#x, not tmpfs", p, sfs.Type)
	}
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return err
	}
	if st.Mode&0o7777 != 0o1777 {
		return fmt.Errorf("%s has mode %#o, want 01777", p, st.Mode&0o7777)
	}
	return nil
}

func statErr(p string) error {
	_, err := os.Lstat(p)
	return err
}

// wantErrno checks err is errno (nil is a failure: the call should fail).
func wantErrno(err error, errno unix.Errno) error {
	if !errors.Is(err, errno) {
		return fmt.Errorf("got error %v, want %v", err, errno)
	}
	return nil
}
