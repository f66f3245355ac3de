package doctor

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// kernelFeatures are what nook uses from the kernel and the release that
// brought each; needed ones nook cannot do without.
var kernelFeatures = []struct {
	name         string
	major, minor int
	needed       bool
}{
	{"overlay in user namespaces (userxattr)", 5, 11, true},
	{"mount_setattr", 5, 12, true},
	{"openat2", 5, 6, true},
	{"pidfd", 5, 3, true},
	{"fsconfig lowerdir+", 6, 8, false},
}

// checkKernel reads the kernel's release and says which of the features
// nook uses it has.
func checkKernel(m *Machine) Result {
	res := Result{Name: "kernel"}
	b, err := os.ReadFile(m.path("proc/sys/kernel/osrelease"))
	release := strings.TrimSpace(string(b))
	major, minor, ok := parseRelease(release)
	if err != nil || !ok {
		res.Status, res.Summary = Warn, fmt.Sprintf("cannot tell the kernel's release (%q, %v): nook needs Linux 5.12 or later", release, err)
		return res
	}
	var have, lack, missing []string
	for _, f := range kernelFeatures {
		switch {
		case major > f.major || major == f.major && minor >= f.minor:
			have = append(have, f.name)
		case f.needed:
			missing = append(missing, fmt.Sprintf("%s (%d.%d)", f.name, f.major, f.minor))
		default:
			lack = append(lack, fmt.Sprintf("%s (%d.%d)", f.name, f.major, f.minor))
		}
	}
	if len(missing) > 0 {
		res.Status = Fail
		res.Summary = fmt.Sprintf("Linux %s lacks %s: nook needs Linux 5.12 or later", release, strings.Join(missing, ", "))
		res.Or = []string{"install your distribution's current kernel (Debian 12: 6.1, Ubuntu 22.04: 5.15) and reboot"}
		return res
	}
	res.Status, res.Summary = OK, fmt.Sprintf("Linux %s: %s", release, strings.Join(have, ", "))
	if len(lack) > 0 {
		res.Summary += fmt.Sprintf("; no %s: overlays of many layers are mounted through short links instead", strings.Join(lack, ", "))
	}
	return res
}

// parseRelease reads the major and minor numbers of a release such as
// "6.1.0-18-amd64".
func parseRelease(s string) (major, minor int, ok bool) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	digits := func(p string) string {
		if i := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			return p[:i]
		}
		return p
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(digits(parts[1]))
	return major, minor, err1 == nil && err2 == nil
}
