package rootless

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The fake-ownership filter lets package managers run as root of a user
// namespace that maps one id: chown to an unmapped id, setuid, setgroups,
// capset and mknod of a device would fail there, and dpkg, apt, rpm and
// friends give up on the first such failure. The filter answers those
// calls with success without doing them (Charliecloud's ch-run --seccomp
// does the same); every other call, and mknod of fifos, sockets and
// regular files, goes through untouched.
//
// The program, for the system call conventions of seccompArchs:
//
//	    ld  [arch]
//	a0: jeq #AUDIT_ARCH_0, 0, a1
//	    ld  [nr]
//	    and #~x32bit           (x86-64 only: x32 numbers fold onto x86-64's)
//	    jeq #chown, fake       (one per faked call)
//	    …
//	    jeq #mknod, mknod
//	    jeq #mknodat, mknodat
//	    ja  allow
//	a1: jeq #AUDIT_ARCH_1, 0, kill
//	    …
//	mknod:   ld  [args[1]]; ja mode
//	mknodat: ld  [args[2]]
//	mode:    and #S_IFMT; jeq #S_IFCHR, fake; jeq #S_IFBLK, fake, allow
//	kill:    ret #KILL_PROCESS   (a convention the filter does not know)
//	allow:   ret #ALLOW
//	fake:    ret #ERRNO|0
//
// A process can switch conventions (a 32-bit binary, int 0x80 from 64-bit
// code), so the architecture is checked on every call: numbers mean
// different calls in each, and one the filter does not know is killed
// rather than let through with numbers it cannot read, as runc's
// libseccomp filters do.

// seccompArch is one system call convention: its audit architecture and
// the numbers of the calls the filter fakes in it.
type seccompArch struct {
	audit   uint32
	x32     bool     // fold x32 numbers (nr | 0x40000000) onto x86-64's before the lookup
	fake    []uint32 // answered with success, whatever the arguments
	mknod   int64    // mknod(path, mode, dev): faked for devices; -1 when the convention has none
	mknodat int64    // mknodat(dirfd, path, mode, dev): likewise
}

// x32SyscallBit marks the x32 ABI's system call numbers on x86-64.
const x32SyscallBit = 0x40000000

// Offsets in struct seccomp_data. The arguments are 64-bit; a 32-bit load
// at an argument's offset reads its low half on little-endian machines,
// which amd64 and arm64 are.
const (
	seccompDataNr   = 0
	seccompDataArch = 4
	seccompDataArgs = 16
)

// fakeOwnershipFilter assembles the filter for archs.
func fakeOwnershipFilter(archs []seccompArch) ([]unix.SockFilter, error) {
	if len(archs) == 0 {
		return nil, fmt.Errorf("faking ownership: no seccomp filter for %s", runtime.GOARCH)
	}
	var a bpfAsm
	a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataArch)
	for i, arch := range archs {
		next := fmt.Sprintf("arch%d", i+1)
		if i == len(archs)-1 {
			next = "kill"
		}
		a.label(fmt.Sprintf("arch%d", i))
		a.jeq(arch.audit, "", next)
		a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataNr)
		if arch.x32 {
			a.stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, ^uint32(x32SyscallBit))
		}
		for _, nr := range arch.fake {
			a.jeq(nr, "fake", "")
		}
		if arch.mknod >= 0 {
			a.jeq(uint32(arch.mknod), "mknod", "")
		}
		if arch.mknodat >= 0 {
			a.jeq(uint32(arch.mknodat), "mknodat", "")
		}
		a.ja("allow")
	}
	// BPF jumps only forwards: the shared tails come last.
	a.label("mknod")
	a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataArgs+8*1)
	a.ja("mode")
	a.label("mknodat")
	a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataArgs+8*2)
	a.label("mode")
	a.stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, unix.S_IFMT)
	a.jeq(unix.S_IFCHR, "fake", "")
	a.jeq(unix.S_IFBLK, "fake", "allow")
	a.label("kill")
	a.stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_KILL_PROCESS)
	a.label("allow")
	a.stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW)
	a.label("fake")
	a.stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|0)
	return a.assemble()
}

// installFakeOwnership sets no_new_privs and installs the fake-ownership
// filter on the calling thread, then checks that it answers. Both are
// per-thread: the caller locks its goroutine to the thread and starts the
// command from it, which inherits them; the thread is never unlocked.
func installFakeOwnership() error {
	filter, err := fakeOwnershipFilter(seccompArchs)
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("faking ownership: setting no_new_privs: %w", err)
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	// SPEC_ALLOW: a filter must not switch on the speculative store bypass
	// mitigation, which slows the build for nothing (kernels before 5.16
	// did by default).
	flags := uintptr(unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW)
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&prog)))
	if errno == unix.EINVAL {
		_, _, errno = unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog)))
	}
	runtime.KeepAlive(filter)
	if errno != 0 {
		return fmt.Errorf("faking ownership: installing the seccomp filter (%d instructions): %w", len(filter), errno)
	}
	// fchown(-1, -1, -1) changes nothing either way: EBADF from the kernel,
	// success from the filter.
	if _, _, errno := unix.RawSyscall(unix.SYS_FCHOWN, ^uintptr(0), ^uintptr(0), ^uintptr(0)); errno != 0 {
		return fmt.Errorf("faking ownership: the seccomp filter does not answer fchown on %s: %w", runtime.GOARCH, errno)
	}
	return nil
}

// bpfAsm assembles a classic BPF program whose jumps name labels.
type bpfAsm struct {
	insns  []unix.SockFilter
	jumps  []bpfJump
	labels map[string]int
}

// bpfJump is a jump of insns[at] to labels, resolved by assemble; an
// empty label is the next instruction.
type bpfJump struct {
	at       int
	jt, jf   string
	absolute bool // ja: the target is in K, not limited to 255
}

func (a *bpfAsm) stmt(code uint16, k uint32) {
	a.insns = append(a.insns, unix.SockFilter{Code: code, K: k})
}

func (a *bpfAsm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.insns)
}

// jeq jumps to jt when the accumulator equals k, else to jf.
func (a *bpfAsm) jeq(k uint32, jt, jf string) {
	a.jumps = append(a.jumps, bpfJump{at: len(a.insns), jt: jt, jf: jf})
	a.stmt(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, k)
}

// ja jumps to target.
func (a *bpfAsm) ja(target string) {
	a.jumps = append(a.jumps, bpfJump{at: len(a.insns), jt: target, absolute: true})
	a.stmt(unix.BPF_JMP|unix.BPF_JA, 0)
}

// assemble resolves the jumps: BPF jumps only forwards, a conditional one
// at most 255 instructions.
func (a *bpfAsm) assemble() ([]unix.SockFilter, error) {
	offset := func(from int, label string) (int, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := a.labels[label]
		if !ok {
			return 0, fmt.Errorf("assembling the seccomp filter: no label %q", label)
		}
		if to <= from {
			return 0, fmt.Errorf("assembling the seccomp filter: jump back from %d to %q", from, label)
		}
		return to - from - 1, nil
	}
	for _, j := range a.jumps {
		jt, err := offset(j.at, j.jt)
		if err != nil {
			return nil, err
		}
		if j.absolute {
			a.insns[j.at].K = uint32(jt)
			continue
		}
		jf, err := offset(j.at, j.jf)
		if err != nil {
			return nil, err
		}
		if jt > 255 || jf > 255 {
			return nil, errors.New("assembling the seccomp filter: a conditional jump is longer than 255 instructions")
		}
		a.insns[j.at].Jt, a.insns[j.at].Jf = uint8(jt), uint8(jf)
	}
	if len(a.insns) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("assembling the seccomp filter: %d instructions, more than %d", len(a.insns), unix.BPF_MAXINSNS)
	}
	return a.insns, nil
}
