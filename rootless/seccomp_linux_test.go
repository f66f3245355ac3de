package rootless

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// seccompData is struct seccomp_data as the kernel hands it to a filter.
func seccompData(arch, nr uint32, args ...uint64) []byte {
	b := make([]byte, 64)
	binary.NativeEndian.PutUint32(b[0:], nr)
	binary.NativeEndian.PutUint32(b[4:], arch)
	for i, a := range args {
		binary.NativeEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// runFilter interprets the classic BPF instructions the filter uses, as
// the kernel would, and returns the action.
func runFilter(t *testing.T, prog []unix.SockFilter, data []byte) uint32 {
	t.Helper()
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			acc = binary.NativeEndian.Uint32(data[in.K:])
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			acc &= in.K
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			if acc == in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		default:
			t.Fatalf("instruction %d: code %#x the interpreter does not know", pc, in.Code)
		}
	}
	t.Fatal("the filter ran off its end")
	return 0
}

const (
	retFake  = unix.SECCOMP_RET_ERRNO | 0
	retAllow = unix.SECCOMP_RET_ALLOW
	retKill  = unix.SECCOMP_RET_KILL_PROCESS
)

func TestFakeOwnershipFilterProgram(t *testing.T) {
	prog, err := fakeOwnershipFilter(seccompArchs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d instructions for %d conventions", len(prog), len(seccompArchs))
	for i, arch := range seccompArchs {
		t.Run(fmt.Sprintf("%#x", arch.audit), func(t *testing.T) {
			check := func(what string, data []byte, want uint32) {
				t.Helper()
				if got := runFilter(t, prog, data); got != want {
					t.Errorf("%s: action %#x, want %#x", what, got, want)
				}
			}
			faked := map[uint32]bool{}
			for _, nr := range arch.fake {
				faked[nr] = true
				check(fmt.Sprintf("call %d", nr), seccompData(arch.audit, nr), retFake)
				if arch.x32 {
					check(fmt.Sprintf("x32 call %d", nr), seccompData(arch.audit, nr|x32SyscallBit), retFake)
				}
			}
			// Numbers the other conventions fake mean other calls here.
			for j, other := range seccompArchs {
				for _, nr := range other.fake {
					if j != i && !faked[nr] && int64(nr) != arch.mknod && int64(nr) != arch.mknodat {
						check(fmt.Sprintf("call %d (faked in %#x only)", nr, other.audit), seccompData(arch.audit, nr), retAllow)
					}
				}
			}
			for _, mk := range []struct {
				name string
				nr   int64
				arg  int // the mode's argument
			}{{"mknod", arch.mknod, 1}, {"mknodat", arch.mknodat, 2}} {
				if mk.nr < 0 {
					continue
				}
				for _, m := range []struct {
					mode uint64
					want uint32
				}{
					{unix.S_IFCHR | 0o666, retFake},
					{unix.S_IFBLK | 0o660, retFake},
					{unix.S_IFIFO | 0o644, retAllow},
					{unix.S_IFSOCK | 0o755, retAllow},
					{unix.S_IFREG | 0o644, retAllow},
					{0o644, retAllow}, // no type: a regular file
				} {
					args := make([]uint64, 4)
					args[mk.arg] = m.mode
					check(fmt.Sprintf("%s mode %#o", mk.name, m.mode), seccompData(arch.audit, uint32(mk.nr), args...), m.want)
					// The mode is read from its own argument, not a neighbour's.
					args = make([]uint64, 4)
					args[mk.arg-1], args[mk.arg+1] = m.mode, m.mode
					args[mk.arg] = unix.S_IFIFO | 0o644
					check(fmt.Sprintf("%s fifo beside %#o", mk.name, m.mode), seccompData(arch.audit, uint32(mk.nr), args...), retAllow)
				}
			}
			check("getpid", seccompData(arch.audit, 20), retAllow)
		})
	}
	for _, audit := range []uint32{0, unix.AUDIT_ARCH_MIPS, unix.AUDIT_ARCH_PPC64LE, unix.AUDIT_ARCH_X86_64 ^ 1} {
		known := false
		for _, a := range seccompArchs {
			known = known || a.audit == audit
		}
		if known {
			continue
		}
		for _, nr := range []uint32{0, 20, seccompArchs[0].fake[0]} {
			if got := runFilter(t, prog, seccompData(audit, nr)); got != retKill {
				t.Errorf("arch %#x call %d: action %#x, want kill %#x", audit, nr, got, retKill)
			}
		}
	}
}

// probeEnv names a directory: with it set, the test binary is the
// ownership probe, run as the command of a role.
const probeEnv = "NOOK_ROOTLESS_TEST_PROBE"

// ownershipProbe makes the calls the filter fakes, in dir, and prints one
// line per call: its name and "ok" or the errno's name.
func ownershipProbe(dir string) int {
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		fmt.Println("setup", err)
		return 1
	}
	result := func(name string, err error) {
		s := "ok"
		if errno, ok := err.(syscall.Errno); ok {
			s = unix.ErrnoName(errno)
		} else if err != nil {
			s = err.Error()
		}
		fmt.Println(name, s)
	}
	raw := func(nr uintptr, args ...uintptr) error {
		args = append(args, 0, 0, 0)
		if _, _, errno := unix.RawSyscall(nr, args[0], args[1], args[2]); errno != 0 {
			return errno
		}
		return nil
	}
	result("chown", unix.Chown(file, 100, 100))
	result("lchown", unix.Lchown(file, 100, 101))
	result("fchownat", unix.Fchownat(unix.AT_FDCWD, file, 102, 102, unix.AT_SYMLINK_NOFOLLOW))
	fd, err := unix.Open(file, unix.O_RDONLY, 0)
	if err != nil {
		fmt.Println("setup", err)
		return 1
	}
	result("fchown", unix.Fchown(fd, 103, 103))
	result("setgroups", raw(unix.SYS_SETGROUPS, 0, 0))
	result("setgid", raw(unix.SYS_SETGID, 100))
	result("setuid", raw(unix.SYS_SETUID, 100))
	result("setresuid", raw(unix.SYS_SETRESUID, 100, 100, 100))
	fmt.Println("uid", unix.Getuid(), unix.Geteuid())
	var st unix.Stat_t
	if err := unix.Stat(file, &st); err == nil {
		fmt.Println("owner", st.Uid, st.Gid)
	}
	result("mknod-char", unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	result("mknod-block", unix.Mknodat(unix.AT_FDCWD, filepath.Join(dir, "loop"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 0))))
	result("mknod-fifo", unix.Mknod(filepath.Join(dir, "fifo"), unix.S_IFIFO|0o644, 0))
	result("mknod-regular", unix.Mknodat(unix.AT_FDCWD, filepath.Join(dir, "regular"), unix.S_IFREG|0o644, 0))
	return 0
}

// runProbe runs the ownership probe as a role's command on the host's
// root and returns its lines by call.
func runProbe(t *testing.T, spec *Spec, dir string) map[string]string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec.Process = Process{Args: []string{exe}, Env: []string{probeEnv + "=" + dir}, Cwd: "/"}
	code, out, err := run(t, spec)
	if err != nil || code != 0 {
		t.Fatalf("the probe: status %d, error %v, output:\n%s", code, err, out)
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(l, " ")
		got[k] = v
	}
	return got
}

func TestFakeOwnership(t *testing.T) {
	dir := t.TempDir()
	got := runProbe(t, &Spec{FakeOwnership: true}, dir)
	want := map[string]string{
		"chown": "ok", "lchown": "ok", "fchownat": "ok", "fchown": "ok",
		"setgroups": "ok", "setgid": "ok", "setuid": "ok", "setresuid": "ok",
		"uid":        "0 0", // setuid said yes and did nothing
		"owner":      "0 0", // the chowns said yes and did nothing
		"mknod-char": "ok", "mknod-block": "ok", "mknod-fifo": "ok", "mknod-regular": "ok",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "file"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != os.Getuid() || int(st.Gid) != os.Getgid() {
		t.Errorf("the file is owned by %d:%d outside, want %d:%d (unchanged)", st.Uid, st.Gid, os.Getuid(), os.Getgid())
	}
	for _, dev := range []string{"null", "loop"} {
		if _, err := os.Lstat(filepath.Join(dir, dev)); !os.IsNotExist(err) {
			t.Errorf("the faked device node %s was made (lstat: %v)", dev, err)
		}
	}
	if fi, err := os.Lstat(filepath.Join(dir, "fifo")); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("mknod of a fifo did not make one: %v, %v", fi, err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "regular")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("mknod of a regular file did not make one: %v, %v", fi, err)
	}
}

func TestWithoutFakeOwnershipTheKernelRefuses(t *testing.T) {
	dir := t.TempDir()
	got := runProbe(t, &Spec{}, dir)
	// Ids other than 0 are unmapped under the single-id map.
	for _, call := range []string{"chown", "lchown", "fchownat", "fchown", "setgid", "setuid", "setresuid"} {
		if got[call] != "EINVAL" && got[call] != "EPERM" {
			t.Errorf("%s: %q, want EINVAL or EPERM", call, got[call])
		}
	}
	for _, call := range []string{"setgroups", "mknod-char", "mknod-block"} {
		if got[call] != "EPERM" {
			t.Errorf("%s: %q, want EPERM", call, got[call])
		}
	}
	if got["mknod-fifo"] != "ok" {
		t.Errorf("mknod-fifo: %q, want ok", got["mknod-fifo"])
	}
}

func TestFakeOwnershipInShell(t *testing.T) {
	forEachWorld(t, func(t *testing.T, w *world) {
		spec := w.spec(t, `cd "$1" && busybox touch f &&
busybox chown 100:100 f && echo chown ok && busybox stat -c 'owner %u:%g' f
busybox mknod null c 1 3 && echo mknod ok && [ ! -e null ] && echo no device
busybox mknod fifo p && [ -p fifo ] && echo fifo`)
		spec.Process.Args = append(spec.Process.Args, "sh", w.shared)
		spec.FakeOwnership = true
		code, out := mustRun(t, spec)
		want := "chown ok\nowner 0:0\nmknod ok\nno device\nfifo\n"
		if code != 0 || out != want {
			t.Errorf("status %d, output:\n%s\nwant:\n%s", code, out, want)
		}
	})
}
