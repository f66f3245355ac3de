package mounts

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
)

func TestMountErrorMessage(t *testing.T) {
	e := &MountError{Op: "move_mount", Source: "/home/ada/testdata", Target: "/data", InRoot: true, FSType: "bind", Flags: "ro", Err: syscall.EPERM}
	want := "move_mount /home/ada/testdata on /data in the new root (type bind, flags ro): operation not permitted"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &MountError{Op: "fsconfig create", Source: "nook", Target: "/s/root", FSType: "overlay", Flags: "userxattr", Log: []string{"overlay: failed to resolve 'x': -2"}, Err: syscall.ENOENT}
	if got := e.Error(); !strings.HasSuffix(got, "no such file or directory (kernel: overlay: failed to resolve 'x': -2)") {
		t.Errorf("Error() = %q, want the kernel's message at the end", got)
	}
}

func TestMountErrorHint(t *testing.T) {
	tests := []struct {
		err  *MountError
		want string // a phrase of the hint; "" for none
	}{
		{&MountError{Op: "fsconfig create", FSType: "overlay", Err: syscall.EINVAL}, "5.11"},
		{&MountError{Op: "fsmount", FSType: "overlay", Err: fmt.Errorf("wrapped: %w", syscall.EPERM)}, "5.11"},
		{&MountError{Op: "fsconfig create", FSType: "proc", Err: syscall.EPERM}, "masked"},
		{&MountError{Op: "mount point", FSType: "bind", Err: fmt.Errorf("/etc/x: %w", syscall.EROFS)}, "read-only"},
		{&MountError{Op: "open_tree", FSType: "bind", Err: syscall.ENOENT}, "does not exist"},
		{&MountError{Op: "fsopen", FSType: "tmpfs", Err: syscall.ENOSYS}, "5.12"},
		{&MountError{Op: "write", Err: syscall.ENOSPC}, ""},
	}
	for _, tt := range tests {
		got := tt.err.Hint()
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("Hint() of %v = %q, want one containing %q", tt.err, got, tt.want)
		}
	}
}
