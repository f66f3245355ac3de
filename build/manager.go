package build

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
)

// Manager is an image's package manager: how a build step installs the
// declared packages non-interactively, cleans the manager's caches in the
// same layer and reports the versions it installed.
type Manager struct {
	// Name is the manager's command, as nook.lock records it: "apt-get",
	// "apk", "dnf", "microdnf", "yum", "zypper" or "pacman".
	Name string
	// Env is added to the step's environment.
	Env []string

	refresh string                            // updates the package index, before installing ("" when install does it)
	install string                            // installs the packages given as arguments
	pin     func(name, version string) string // one install argument asking for exactly version
	clean   string                            // removes caches and indexes
	query   string                            // prints every installed package with its version
	parse   func(out string) map[string]string
	// missing finds, in the output of a failed install, the pinned
	// versions the repositories do not offer, as "NAME VERSION"; nil
	// when the manager's messages are not known.
	missing func(out string) [][2]string
	// exact is false when install cannot ask for a version (pacman): the
	// build installs, then checks that the versions are the lock's.
	exact bool
}

// apt runs with APT::Sandbox::User=root: under nook's single-id map there
// is no _apt user to drop to (the seccomp filter fakes the set*id calls,
// but apt checks that the drop worked).
const aptOptions = "-o APT::Sandbox::User=root -o Dpkg::Use-Pty=0"

// managers are the supported package managers, in the order in which an
// image's binaries are tried when its os-release names none of them.
var managers = []*Manager{
	{
		Name:    "apt-get",
		Env:     []string{"DEBIAN_FRONTEND=noninteractive"},
		refresh: "apt-get " + aptOptions + " -o Acquire::Languages=none update",
		install: "apt-get " + aptOptions + " install -y --no-install-recommends",
		pin:     func(n, v string) string { return n + "=" + v },
		clean:   "apt-get clean && rm -rf /var/lib/apt/lists/*",
		query:   `dpkg-query -W -f='${db:Status-Status}\t${Package}\t${Version}\n'`,
		parse:   parseDpkg,
		missing: aptMissing,
		exact:   true,
	},
	{
		Name:    "apk",
		install: "apk add --no-cache",
		pin:     func(n, v string) string { return n + "=" + v },
		clean:   "rm -rf /var/cache/apk/*",
		query:   "apk info -v 2>/dev/null; :", // every installed package as NAME-VERSION-rN
		parse:   parseApk,
		exact:   true,
	},
	{
		Name:    "dnf",
		install: "dnf install -y --setopt=install_weak_deps=False",
		pin:     func(n, v string) string { return n + "-" + v },
		clean:   "dnf clean all && rm -rf /var/cache/dnf",
		query:   rpmQuery,
		parse:   parseRpm,
		exact:   true,
	},
	{
		Name:    "microdnf",
		install: "microdnf install -y",
		pin:     func(n, v string) string { return n + "-" + v },
		clean:   "microdnf clean all",
		query:   rpmQuery,
		parse:   parseRpm,
		exact:   true,
	},
	{
		Name:    "yum",
		install: "yum install -y",
		pin:     func(n, v string) string { return n + "-" + v },
		clean:   "yum clean all && rm -rf /var/cache/yum",
		query:   rpmQuery,
		parse:   parseRpm,
		exact:   true,
	},
	{
		Name:    "zypper",
		install: "zypper --non-interactive install --no-recommends",
		pin:     func(n, v string) string { return n + "=" + v },
		clean:   "zypper clean --all",
		query:   rpmQuery,
		parse:   parseRpm,
		exact:   true,
	},
	{
		Name:    "pacman",
		install: "pacman -Sy --noconfirm --needed",
		pin:     func(n, _ string) string { return n },
		clean:   "rm -rf /var/cache/pacman/pkg/* /var/lib/pacman/sync/*",
		query:   "pacman -Q",
		parse:   parseFields,
		exact:   false,
	},
}

// rpmQuery lists the installed packages of an rpm database; gpg-pubkey
// entries (imported signing keys, not packages) are dropped by parseRpm.
const rpmQuery = `rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n'`

// ManagerByName returns the supported manager called name, or nil.
func ManagerByName(name string) *Manager {
	for _, m := range managers {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// arg is the install argument for one package: pinned to version when the
// lock has one.
func (m *Manager) arg(name, version string) string {
	if version == "" {
		return name
	}
	return m.pin(name, version)
}

// The files where the packages step leaves the installed packages with
// their versions, before and after the install, in the step's upper
// directory; the build reads and removes them before the layer is stored.
const (
	beforeFile = ".nook-installed-before"
	afterFile  = ".nook-installed-after"
)

// script is the shell script of the packages step: list what is
// installed, refresh the index, install args, clean the caches and list
// what is installed again.
func (m *Manager) script(args []string) string {
	var b strings.Builder
	b.WriteString("set -e\n")
	fmt.Fprintf(&b, "%s >/%s\n", m.query, beforeFile)
	if m.refresh != "" {
		b.WriteString(m.refresh + "\n")
	}
	b.WriteString(m.install + " " + shellWords(args) + "\n")
	b.WriteString(m.clean + "\n")
	fmt.Fprintf(&b, "%s >/%s\n", m.query, afterFile)
	return b.String()
}

// installed is what the packages step installed, from the manager's lists
// of installed packages before and after it: every package that is new or
// at another version, and every declared package (which the image may
// have had already), each with its version now. A declared package that
// is not installed is an error.
func (m *Manager) installed(before, after string, declared []string) (map[string]string, error) {
	was, now := m.parse(before), m.parse(after)
	got := map[string]string{}
	for n, v := range now {
		if was[n] != v {
			got[n] = v
		}
	}
	var missing []string
	for _, n := range declared {
		v := now[n]
		if v == "" {
			missing = append(missing, n)
			continue
		}
		got[n] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s reports no installed version of %s", m.Name, strings.Join(missing, ", "))
	}
	return got, nil
}

// aptMissing finds apt-get's errors for pinned versions its indexes do
// not hold: "E: Version '2.10-3' for 'hello' was not found".
func aptMissing(out string) [][2]string {
	var got [][2]string
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "E: Version '")
		if !ok {
			continue
		}
		version, rest, ok := strings.Cut(rest, "' for '")
		if !ok {
			continue
		}
		if name, ok := strings.CutSuffix(rest, "' was not found"); ok {
			got = append(got, [2]string{name, version})
		}
	}
	return got
}

// parseDpkg reads dpkg-query lines "STATUS NAME VERSION", keeping the
// packages that are installed (not those removed with their
// configuration kept).
func parseDpkg(out string) map[string]string {
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "installed" {
			got[f[1]] = f[2]
		}
	}
	return got
}

// parseRpm reads rpm's "NAME VERSION-RELEASE" lines, without the
// gpg-pubkey entries of imported signing keys.
func parseRpm(out string) map[string]string {
	got := parseFields(out)
	delete(got, "gpg-pubkey")
	return got
}

// parseFields reads "NAME VERSION" lines (tab or space separated).
func parseFields(out string) map[string]string {
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			got[f[0]] = f[1]
		}
	}
	return got
}

// parseApk reads `apk info -v` lines, NAME-VERSION-rN, where NAME may hold
// dashes and VERSION starts with a digit.
func parseApk(out string) map[string]string {
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		r := strings.LastIndex(line, "-r")
		if r <= 0 {
			continue
		}
		v := strings.LastIndexByte(line[:r], '-')
		if v <= 0 || v+1 >= len(line) || line[v+1] < '0' || line[v+1] > '9' {
			continue
		}
		got[line[:v]] = line[v+1:]
	}
	return got
}

// osManagers maps os-release IDs (ID and ID_LIKE) to their managers, most
// likely first.
var osManagers = map[string][]string{
	"debian": {"apt-get"}, "ubuntu": {"apt-get"},
	"alpine": {"apk"}, "wolfi": {"apk"}, "chainguard": {"apk"},
	"fedora": {"dnf", "microdnf", "yum"}, "rhel": {"dnf", "microdnf", "yum"}, "centos": {"dnf", "microdnf", "yum"},
	"rocky": {"dnf", "microdnf", "yum"}, "almalinux": {"dnf", "microdnf", "yum"}, "amzn": {"dnf", "yum"}, "ol": {"dnf", "microdnf", "yum"},
	"opensuse": {"zypper"}, "suse": {"zypper"}, "sles": {"zypper"},
	"arch": {"pacman"}, "archlinux": {"pacman"}, "manjaro": {"pacman"},
}

// binDirs are where a manager's binary is looked for.
var binDirs = []string{"usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin"}

// Detect finds the package manager of the image whose layer directories
// are lowers (bottom first), from /etc/os-release and the binaries present,
// reading the layers directly (whiteouts and opaque directories honoured).
func Detect(image string, lowers []string) (*Manager, error) {
	l := layerFS(lowers)
	has := func(name string) bool {
		for _, d := range binDirs {
			if l.executable(d + "/" + name) {
				return true
			}
		}
		return false
	}
	osr := osRelease(l)
	for _, id := range osr.ids() {
		for _, name := range osManagers[id] {
			if has(name) {
				return ManagerByName(name), nil
			}
		}
	}
	for _, m := range managers {
		if has(m.Name) {
			return m, nil
		}
	}
	return nil, &NoManagerError{Image: image, OS: osr.name()}
}

// osReleaseInfo is what Detect uses of os-release(5).
type osReleaseInfo map[string]string

// osRelease reads /etc/os-release, else /usr/lib/os-release; an image
// without either has an empty one.
func osRelease(l layerFS) osReleaseInfo {
	info := osReleaseInfo{}
	data, err := l.readFile("etc/os-release")
	if err != nil {
		if data, err = l.readFile("usr/lib/os-release"); err != nil {
			return info
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		info[k] = strings.Trim(v, `"'`)
	}
	return info
}

// ids are ID then the ID_LIKE entries, lower case.
func (o osReleaseInfo) ids() []string {
	ids := append([]string{o["ID"]}, strings.Fields(o["ID_LIKE"])...)
	for i, id := range ids {
		ids[i] = strings.ToLower(id)
		if strings.HasPrefix(ids[i], "opensuse") {
			ids[i] = "opensuse"
		}
	}
	return slices.DeleteFunc(ids, func(s string) bool { return s == "" })
}

// name is the distribution's name for messages.
func (o osReleaseInfo) name() string {
	if n := o["PRETTY_NAME"]; n != "" {
		return n
	}
	return o["ID"]
}

// NoManagerError says that an image with packages to install has no
// package manager nook knows.
type NoManagerError struct {
	Image string
	OS    string // from os-release; "" when the image has none
}

// Error says that no package manager was found, and on which OS.
func (e *NoManagerError) Error() string {
	on := ""
	if e.OS != "" {
		on = " (" + e.OS + ")"
	}
	names := make([]string, len(managers))
	for i, m := range managers {
		names[i] = m.Name
	}
	return fmt.Sprintf("image %s%s has no package manager nook can use (looked for %s)", e.Image, on, strings.Join(names, ", "))
}

// Hint says how to get on.
func (e *NoManagerError) Hint() string {
	return "remove packages from nook.toml and install what you need in a setup step, or use an image with a package manager"
}

// shellWords quotes each word for /bin/sh and joins them with spaces.
func shellWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}

// shellQuote quotes s for /bin/sh unless it is made only of safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.:=_/@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
