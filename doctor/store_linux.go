package doctor

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nookenv/nook/cgroups"
)

// Free space below which the store check warns, and fails.
const (
	lowSpace       = 2 << 30
	tooLittleSpace = 512 << 20
)

// networkFS are file systems where the store works badly or not at all.
var networkFS = map[string]bool{"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "fuse.sshfs": true, "9p": true}

// checkStore checks the store's file system: not overlayfs (which refuses
// the 0/0 device nodes that record a layer's deletions), not a network
// file system, and room to pull and build.
func checkStore(m *Machine) Result {
	res := Result{Name: "store", Status: OK}
	dir := existing(m.StoreDir)
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	where := m.StoreDir
	if dir != filepath.Clean(m.StoreDir) {
		where += " (not made yet)"
	}
	fs := mountType(m.path("proc/self/mountinfo"), real)
	free, ferr := m.FreeSpace(dir)
	moveIt := func() {
		res.Or = []string{"put the store on a local file system: export NOOK_HOME=/a/directory/on/ext4-or-xfs",
			"(in a container, on a volume), and keep it in your shell's profile:",
			`echo 'export NOOK_HOME=/a/directory/on/ext4-or-xfs' >> ~/.profile`}
	}
	switch {
	case fs == "overlay":
		res.Status = Warn
		res.Summary = fmt.Sprintf("%s is on overlayfs (nook in a container?): a layer that deletes files (a whiteout) cannot be unpacked there", where)
		moveIt()
	case networkFS[fs]:
		res.Status = Warn
		res.Summary = fmt.Sprintf("%s is on a network file system (%s): whiteout device nodes, extended attributes and file locks may fail, and every run reads its layers over the network", where, fs)
		moveIt()
	case ferr == nil && free < tooLittleSpace:
		res.Status = Fail
		res.Summary = fmt.Sprintf("%s on %s has %s free: pulls and builds will fail", where, orUnknown(fs), cgroups.FormatBytes(free))
		res.Fix = []string{"nook gc"}
		res.Or = []string{"nook gc --volumes also removes the volumes of projects that are gone"}
	case ferr == nil && free < lowSpace:
		res.Status = Warn
		res.Summary = fmt.Sprintf("%s on %s has %s free: large images will not fit", where, orUnknown(fs), cgroups.FormatBytes(free))
		res.Fix = []string{"nook gc"}
		res.Or = []string{"nook gc --volumes also removes the volumes of projects that are gone"}
	case ferr != nil:
		res.Status = Warn
		res.Summary = fmt.Sprintf("%s on %s: free space unknown (%v)", where, orUnknown(fs), ferr)
	default:
		res.Summary = fmt.Sprintf("%s on %s, %s free", where, orUnknown(fs), cgroups.FormatBytes(free))
	}
	return res
}

func orUnknown(fs string) string {
	if fs == "" {
		return "an unknown file system"
	}
	return fs
}

// mountType is the type of the file system that holds path, from a
// /proc/self/mountinfo: the last mount whose mount point is path or one
// of its parents (the last one there hides those before it).
func mountType(mountinfo, path string) string {
	f, err := os.Open(mountinfo)
	if err != nil {
		return ""
	}
	defer f.Close()
	best, fstype := -1, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS…] - TYPE SOURCE SUPEROPTIONS
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, fl := range fields {
			if fl == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 5 || sep < 0 || sep+1 >= len(fields) {
			continue
		}
		point := unescapeMount(fields[4])
		if point != "/" && path != point && !strings.HasPrefix(path, point+"/") {
			continue
		}
		if len(point) >= best {
			best, fstype = len(point), fields[sep+1]
		}
	}
	return fstype
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
