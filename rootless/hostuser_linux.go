package rootless

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// A role with user = "host" runs as you: your uid and gid inside, files in
// the project yours, no capabilities. nook-init must be root of the role's
// namespace to build its root (mount, pivot_root), and under the single-id
// map you are that root: no other id exists to become. So, as bubblewrap
// does for --uid, the init starts the command in a user namespace of its
// own, nested in the role's, that maps your uid to the role's root (you
// outside) — and, under the full map, the role's uid of the same number to
// the nested root, every other id to itself — and no capability survives
// the command's exec, since it is not root there.

// hostIdentity reads, from the init's own maps, who you are: the ids the
// role's root stands for outside (root inside is always you).
type hostIdentity struct {
	uid, gid       uint32
	uidMap, gidMap []syscall.SysProcIDMap // the nested namespace's maps
}

// newHostIdentity computes the nested namespace for the calling process,
// root of the role's namespace.
func newHostIdentity() (*hostIdentity, error) {
	var h hostIdentity
	for _, m := range []struct {
		file string
		id   *uint32
		out  *[]syscall.SysProcIDMap
	}{{"/proc/self/uid_map", &h.uid, &h.uidMap}, {"/proc/self/gid_map", &h.gid, &h.gidMap}} {
		lines, err := readIDMap(m.file)
		if err != nil {
			return nil, err
		}
		id, ok := outsideOf(lines, 0)
		if !ok {
			return nil, fmt.Errorf("%s maps no root: the role's namespace is not nook's", m.file)
		}
		*m.id = id
		*m.out = nestedIDMap(lines, id)
	}
	return &h, nil
}

// idMapLine is a line of /proc/PID/uid_map or gid_map: count ids from
// inside on, in this namespace, are outside on in the parent's.
type idMapLine struct{ inside, outside, count uint32 }

func readIDMap(path string) ([]idMapLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the id map: %w", err)
	}
	defer f.Close()
	var out []idMapLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l [3]uint32
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			return nil, fmt.Errorf("reading %s: bad line %q", path, sc.Text())
		}
		for i, s := range fields {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("reading %s: bad line %q", path, sc.Text())
			}
			l[i] = uint32(n)
		}
		out = append(out, idMapLine{inside: l[0], outside: l[1], count: l[2]})
	}
	return out, sc.Err()
}

// outsideOf is the id outside that id inside stands for.
func outsideOf(lines []idMapLine, id uint32) (uint32, bool) {
	for _, l := range lines {
		if id >= l.inside && id-l.inside < l.count {
			return l.outside + (id - l.inside), true
		}
	}
	return 0, false
}

// nestedIDMap is the map of a namespace nested in one whose map is lines,
// for you, whose id outside is you: inside it, you (this namespace's 0)
// are you again; this namespace's id of your number, if it has one,
// becomes the nested root; every other id of this namespace is itself.
// Under the single-id map that is one line, "you 0 1", as bubblewrap
// writes for --uid.
func nestedIDMap(lines []idMapLine, you uint32) []syscall.SysProcIDMap {
	out := []syscall.SysProcIDMap{{ContainerID: int(you), HostID: 0, Size: 1}}
	if you == 0 {
		return out
	}
	for _, l := range lines {
		// This namespace's ids l.inside … l.inside+l.count-1, without 0
		// and you, each to itself; you's goes to the nested 0.
		lo, hi := uint64(l.inside), uint64(l.inside)+uint64(l.count) // [lo, hi)
		if lo == 0 {
			lo = 1
		}
		if y := uint64(you); y >= lo && y < hi {
			out = append(out, syscall.SysProcIDMap{ContainerID: 0, HostID: int(you), Size: 1})
			if y > lo {
				out = append(out, syscall.SysProcIDMap{ContainerID: int(lo), HostID: int(lo), Size: int(y - lo)})
			}
			lo = y + 1
		}
		if hi > lo {
			out = append(out, syscall.SysProcIDMap{ContainerID: int(lo), HostID: int(lo), Size: int(hi - lo)})
		}
	}
	return out
}
