package rootless

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestUsernsHint(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sysctl map[string]string
		errno  syscall.Errno
		want   []string
	}{
		{"apparmor", map[string]string{"kernel/apparmor_restrict_unprivileged_userns": "1", "user/max_user_namespaces": "63000"},
			syscall.EACCES, []string{"sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0", "AppArmor profile",
				"echo 'kernel.apparmor_restrict_unprivileged_userns = 0' | sudo tee /etc/sysctl.d/90-nook-userns.conf",
				"sudo apparmor_parser -r /etc/apparmor.d/nook"}},
		{"debian", map[string]string{"kernel/unprivileged_userns_clone": "0"},
			syscall.EPERM, []string{"kernel.unprivileged_userns_clone=1"}},
		{"disabled", map[string]string{"user/max_user_namespaces": "0"},
			syscall.ENOSPC, []string{"user.max_user_namespaces="}},
		{"limit reached", map[string]string{"user/max_user_namespaces": "3"},
			syscall.ENOSPC, []string{"user.max_user_namespaces = 3", "sudo sysctl user.max_user_namespaces=28633", "/etc/sysctl.d/"}},
		{"unknown", map[string]string{"kernel/apparmor_restrict_unprivileged_userns": "0",
			"kernel/unprivileged_userns_clone": "1", "user/max_user_namespaces": "63000"},
			syscall.EPERM, []string{"nook doctor"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, v := range tc.sysctl {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			hint := usernsHint(root, tc.errno)
			for _, w := range tc.want {
				if !strings.Contains(hint, w) {
					t.Errorf("hint %q lacks %q", hint, w)
				}
			}
		})
	}
}

func TestUsernsErrorIsRecognised(t *testing.T) {
	start := fmt.Errorf("fork/exec /proc/self/exe: %w", syscall.EPERM)
	err := newUsernsError(start)
	if err == nil || !errors.Is(err, syscall.EPERM) {
		t.Fatalf("newUsernsError(%v) = %v, want an error wrapping it", start, err)
	}
	var h interface{ Hint() string }
	if !errors.As(err, &h) || h.Hint() == "" {
		t.Errorf("%v has no hint", err)
	}
	if err := newUsernsError(fmt.Errorf("fork/exec: %w", syscall.ENOMEM)); err != nil {
		t.Errorf("ENOMEM taken for a user namespace refusal: %v", err)
	}
}
