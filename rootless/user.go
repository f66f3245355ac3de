package rootless

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RootUser reports whether a role's user (Process.User) is root inside,
// which is you outside: "", "root", "0" or "0:0".
func RootUser(u string) bool { return u == "" || u == "root" || u == "0" || u == "0:0" }

// HostUser is the role user that is you, with your uid and gid inside and
// no capabilities (user = "host", as Podman's --userns=keep-id); the
// role's plan must make the user exist in its root (mounts.User).
const HostUser = "host"

// credential is who a role's command runs as inside its namespaces.
type credential struct {
	uid, gid uint32
	groups   []uint32 // supplementary groups
	name     string   // the user's name; "" when not in passwd
	home     string   // the user's home directory; "" when not in passwd
}

// lookupUser resolves a role's user as Docker does: "NAME", "UID",
// "NAME:GROUP" or "UID:GID", names looked up in root's /etc/passwd and
// /etc/group. A numeric uid need not be in passwd (its gid is then the
// same number, unless given); a name must be.
func lookupUser(root, spec string) (*credential, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" || (hasGroup && groupPart == "") {
		return nil, fmt.Errorf("user %q: want NAME, UID, NAME:GROUP or UID:GID", spec)
	}
	passwd, err := readIDFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		return nil, fmt.Errorf("looking up user %q: %w", spec, err)
	}
	c := &credential{}
	var name string
	if id, ok := parseID(userPart); ok {
		c.uid, c.gid = id, id
		for _, f := range passwd {
			if len(f) >= 4 && f[2] == userPart {
				name, c.home = f[0], field(f, 5)
				if gid, ok := parseID(f[3]); ok {
					c.gid = gid
				}
				break
			}
		}
	} else {
		found := false
		for _, f := range passwd {
			if len(f) >= 4 && f[0] == userPart {
				uid, okU := parseID(f[2])
				gid, okG := parseID(f[3])
				if !okU || !okG {
					return nil, fmt.Errorf("looking up user %q: bad /etc/passwd entry %q", spec, strings.Join(f, ":"))
				}
				c.uid, c.gid, name, c.home, found = uid, gid, userPart, field(f, 5), true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("user %q: no such user in the image's /etc/passwd", userPart)
		}
	}
	group, err := readIDFile(filepath.Join(root, "etc/group"))
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("looking up user %q: %w", spec, err)
	}
	if hasGroup {
		gid, ok := parseID(groupPart)
		if !ok {
			found := false
			for _, f := range group {
				if len(f) >= 3 && f[0] == groupPart {
					gid, ok = parseID(f[2])
					found = ok
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("user %q: no such group %q in the image's /etc/group", spec, groupPart)
			}
		}
		c.gid = gid
	}
	c.name = name
	// Supplementary groups: those that list the user by name.
	for _, f := range group {
		if name == "" || len(f) < 4 {
			continue
		}
		gid, ok := parseID(f[2])
		if !ok || gid == c.gid {
			continue
		}
		for _, member := range strings.Split(f[3], ",") {
			if member == name {
				c.groups = append(c.groups, gid)
				break
			}
		}
	}
	return c, nil
}

// readIDFile reads a passwd, group, subuid or subgid file as
// colon-separated fields, one entry a line; comments and blank lines are
// skipped.
func readIDFile(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}

// parseID parses a numeric uid or gid.
func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// field is f[i], or "" when f is shorter.
func field(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}
