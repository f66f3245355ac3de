package rootless

import "golang.org/x/sys/unix"

// seccompArchs are the conventions an arm64 kernel runs: AArch64, which
// has no chown, lchown or mknod (only their *at forms), and, on CPUs that
// have it, the 32-bit arm EABI.
var seccompArchs = []seccompArch{
	{
		audit: unix.AUDIT_ARCH_AARCH64,
		fake: []uint32{
			unix.SYS_FCHOWN, unix.SYS_FCHOWNAT,
			unix.SYS_SETUID, unix.SYS_SETGID, unix.SYS_SETREUID, unix.SYS_SETREGID,
			unix.SYS_SETRESUID, unix.SYS_SETRESGID, unix.SYS_SETFSUID, unix.SYS_SETFSGID,
			unix.SYS_SETGROUPS, unix.SYS_CAPSET,
		},
		mknod:   -1,
		mknodat: unix.SYS_MKNODAT,
	},
	compat32(unix.AUDIT_ARCH_ARM, 325, 324),
}
