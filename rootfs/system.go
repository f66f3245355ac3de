package rootfs

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nookenv/nook/mounts"
)

// devices are the host device nodes bound into the minimal /dev.
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// system mounts what every root gets: a new /proc for the new pid
// namespace, a minimal /dev and a /tmp.
func (b *builder) system() {
	inRoot := func(op mounts.Op) mounts.Op { op.InRoot = true; return op }
	b.add(
		inRoot(mounts.Op{Kind: mounts.OpMount, Target: "/proc", FSType: "proc", Source: "proc", Flags: []string{"nosuid", "nodev", "noexec"}}),
		inRoot(mounts.Op{Kind: mounts.OpMount, Target: "/dev", FSType: "tmpfs", Source: "tmpfs", Options: []string{"mode=0755"}, Flags: []string{"nosuid", "noexec"}}),
	)
	for _, d := range devices {
		b.add(inRoot(mounts.Op{Kind: mounts.OpBind, Source: "/dev/" + d, Target: "/dev/" + d}))
	}
	b.add(
		// No gid=5: group tty is not mapped in a single-id user namespace.
		inRoot(mounts.Op{Kind: mounts.OpMount, Target: "/dev/pts", FSType: "devpts", Source: "devpts", Options: []string{"newinstance", "ptmxmode=0666", "mode=0620"}, Flags: []string{"nosuid", "noexec"}}),
		inRoot(mounts.Op{Kind: mounts.OpSymlink, Target: "/dev/ptmx", Link: "pts/ptmx"}),
		inRoot(mounts.Op{Kind: mounts.OpMount, Target: "/dev/shm", FSType: "tmpfs", Source: "shm", Options: []string{"mode=1777"}, Flags: []string{"nosuid", "nodev", "noexec"}}),
		inRoot(mounts.Op{Kind: mounts.OpSymlink, Target: "/dev/fd", Link: "/proc/self/fd"}),
	)
	for i, name := range []string{"stdin", "stdout", "stderr"} {
		b.add(inRoot(mounts.Op{Kind: mounts.OpSymlink, Target: "/dev/" + name, Link: fmt.Sprintf("/proc/self/fd/%d", i)}))
	}
	b.add(inRoot(mounts.Op{Kind: mounts.OpMount, Target: "/tmp", FSType: "tmpfs", Source: "tmpfs", Options: []string{"mode=1777"}, Flags: []string{"nosuid", "nodev"}}))
}

// etcFiles writes /etc/resolv.conf, /etc/hosts and /etc/hostname into the
// scratch tmpfs and returns the binds that put them in place. A file the
// role mounts itself, at its path or at a directory above it, is left to
// the role: nook neither covers it nor writes through the role's mount.
func (b *builder) etcFiles(binds []mounts.Op, hostname string, roles []string, resolvConf []byte) []mounts.Op {
	dir := filepath.Join(b.scratch, "etc")
	b.add(mounts.Op{Kind: mounts.OpMkdir, Target: dir, Mode: 0o755})
	files := []struct {
		name string
		data []byte
	}{
		{"resolv.conf", resolvConf},
		{"hosts", hosts(hostname, roles)},
		{"hostname", []byte(hostname + "\n")},
	}
	var out []mounts.Op
	for _, f := range files {
		target := "/etc/" + f.name
		if covered(target, binds) {
			continue
		}
		src := filepath.Join(dir, f.name)
		b.add(mounts.Op{Kind: mounts.OpWrite, Target: src, Mode: 0o644, Data: f.data})
		out = append(out, mounts.Op{Kind: mounts.OpBind, Source: src, Target: target, InRoot: true})
	}
	return out
}

// hosts is the content of /etc/hosts: localhost, the project's role names
// on 127.0.0.1 (roles share the pod's loopback, so http://web:8080 reaches
// role web as between Compose services), and the hostname on 127.0.1.1 and
// ::1 (as Debian does) so it resolves without a network.
func hosts(hostname string, roles []string) []byte {
	s := "127.0.0.1\tlocalhost\n"
	if len(roles) > 0 {
		s += "127.0.0.1\t" + strings.Join(roles, " ") + "\n"
	}
	if hostname != "" {
		s += "127.0.1.1\t" + hostname + "\n"
		s += "::1\tlocalhost ip6-localhost ip6-loopback " + hostname + "\n"
	} else {
		s += "::1\tlocalhost ip6-localhost ip6-loopback\n"
	}
	return []byte(s)
}
