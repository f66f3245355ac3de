//go:build amd64 || arm64

package rootless

// compat32Fake are the calls the filter fakes in the 32-bit conventions
// that amd64 and arm64 kernels can also run (i386 and arm EABI), which
// number them alike but for fchownat; each has a 16-bit-id form and a
// 32-bit-id form ("…32"). The numbers are those of x/sys/unix's
// zsysnum_linux_386.go and zsysnum_linux_arm.go, which a 64-bit build
// cannot import.
var compat32Fake = []uint32{
	185,      // capset
	182, 212, // chown, chown32
	95, 207, // fchown, fchown32
	16, 198, // lchown, lchown32
	23, 213, // setuid, setuid32
	46, 214, // setgid, setgid32
	70, 203, // setreuid, setreuid32
	71, 204, // setregid, setregid32
	164, 208, // setresuid, setresuid32
	170, 210, // setresgid, setresgid32
	138, 215, // setfsuid, setfsuid32
	139, 216, // setfsgid, setfsgid32
	81, 206, // setgroups, setgroups32
}

// compat32 is the 32-bit convention with audit architecture audit, whose
// fchownat and mknodat have the numbers given (mknod is 14 in both).
func compat32(audit, fchownat, mknodat uint32) seccompArch {
	return seccompArch{
		audit:   audit,
		fake:    append(append([]uint32(nil), compat32Fake...), fchownat),
		mknod:   14,
		mknodat: int64(mknodat),
	}
}
