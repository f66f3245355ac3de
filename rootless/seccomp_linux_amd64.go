package rootless

import "golang.org/x/sys/unix"

// seccompArchs are the conventions an amd64 kernel runs: x86-64 (with
// x32, whose numbers for these calls are x86-64's with bit 30 set) and
// i386.
var seccompArchs = []seccompArch{
	{
		audit: unix.AUDIT_ARCH_X86_64,
		x32:   true,
		fake: []uint32{
			unix.SYS_CHOWN, unix.SYS_FCHOWN, unix.SYS_LCHOWN, unix.SYS_FCHOWNAT,
			unix.SYS_SETUID, unix.SYS_SETGID, unix.SYS_SETREUID, unix.SYS_SETREGID,
			unix.SYS_SETRESUID, unix.SYS_SETRESGID, unix.SYS_SETFSUID, unix.SYS_SETFSGID,
			unix.SYS_SETGROUPS, unix.SYS_CAPSET,
		},
		mknod:   unix.SYS_MKNOD,
		mknodat: unix.SYS_MKNODAT,
	},
	compat32(unix.AUDIT_ARCH_I386, 298, 297),
}
