package rootless

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// UsernsRefusals reads the sysctls under procSys (normally /proc/sys) that
// can keep an ordinary user from creating user namespaces, and returns one
// Refusal for each that does. errno is what the kernel answered when it
// refused one (0 when nothing was tried): ENOSPC with a non-zero
// user.max_user_namespaces means that limit is reached. exe is nook's
// executable, for the AppArmor profile that lets it in.
func UsernsRefusals(procSys string, errno syscall.Errno, exe string) []Refusal {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(procSys, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	var out []Refusal
	if read("kernel/apparmor_restrict_unprivileged_userns") == "1" {
		const s = "kernel.apparmor_restrict_unprivileged_userns"
		out = append(out, Refusal{
			Problem: "AppArmor restricts unprivileged user namespaces (" + s + " = 1, Ubuntu 23.10 and later)",
			Fix:     []string{"sudo sysctl " + s + "=0"},
			Keep:    []string{keepSysctl(s, "0", "90-nook-userns.conf")},
			Or:      append([]string{"leave the restriction on and give nook an AppArmor profile that allows user namespaces:"}, apparmorProfile(exe)...),
		})
	}
	if read("kernel/unprivileged_userns_clone") == "0" {
		const s = "kernel.unprivileged_userns_clone"
		out = append(out, Refusal{
			Problem: "unprivileged user namespaces are disabled (" + s + " = 0, Debian before 11)",
			Fix:     []string{"sudo sysctl " + s + "=1"},
			Keep:    []string{keepSysctl(s, "1", "90-nook-userns.conf")},
		})
	}
	const maxNS = "user.max_user_namespaces"
	switch limit := read("user/max_user_namespaces"); {
	case limit == "0":
		out = append(out, Refusal{
			Problem: "user namespaces are disabled (" + maxNS + " = 0)",
			Fix:     []string{"sudo sysctl " + maxNS + "=28633"},
			Keep:    []string{keepSysctl(maxNS, "28633", "90-nook-userns.conf")},
		})
	case errno == syscall.ENOSPC && limit != "":
		n, _ := strconv.Atoi(limit)
		raised := strconv.Itoa(max(28633, 2*n))
		out = append(out, Refusal{
			Problem: fmt.Sprintf("the limit on user namespaces is reached (%s = %s)", maxNS, limit),
			Fix:     []string{"sudo sysctl " + maxNS + "=" + raised},
			Keep:    []string{keepSysctl(maxNS, raised, "90-nook-userns.conf")},
		})
	}
	return out
}

// apparmorProfile are the commands that install an AppArmor profile for
// nook at exe which allows it user namespaces and confines it no further,
// as Ubuntu ships for other tools that need them.
func apparmorProfile(exe string) []string {
	if exe == "" {
		exe = "/usr/local/bin/nook"
	}
	return []string{
		`printf 'abi <abi/4.0>,\ninclude <tunables/global>\nprofile nook ` + exe + ` flags=(unconfined) {\n  userns,\n}\n' | sudo tee /etc/apparmor.d/nook`,
		"sudo apparmor_parser -r /etc/apparmor.d/nook",
	}
}
