package cgroups

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// namePrefix starts the name of every cgroup nook makes.
const namePrefix = "nook-"

// Name is the cgroup name of a run of role by the nook process pid:
// nook-ROLE-PID. A process runs a role once at a time, so the name is
// unique while it lives; Find finds it again from the two.
func Name(role string, pid int) string {
	if role == "" {
		role = "exec"
	}
	return fmt.Sprintf("%s%s-%d", namePrefix, role, pid)
}

// Cgroup is the cgroup of one role run, made by Create.
type Cgroup struct {
	Path string // its cgroup v2 path
	Dir  string // its directory
	fd   *os.File
}

// OOMKills is how many processes of the cgroup the OOM killer killed (its
// memory.events oom_kill); 0 when unknown.
func (c *Cgroup) OOMKills() int {
	b, err := os.ReadFile(filepath.Join(c.Dir, "memory.events"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// Find returns the directory of the cgroup of role's run by the nook
// process owner, looking at the cgroups above owner's own (read from
// root/proc/OWNER/cgroup), where Create made it; ok false when it has
// none.
func Find(root string, owner int, role string) (dir string, ok bool) {
	p := ownCgroup(filepath.Join(root, "proc", strconv.Itoa(owner), "cgroup"))
	if p == "" {
		return "", false
	}
	mount := filepath.Join(root, "sys/fs/cgroup")
	name := Name(role, owner)
	for {
		d := filepath.Join(mount, p, name)
		if exists(d) {
			return d, true
		}
		if p == "/" {
			return "", false
		}
		p = path.Dir(p)
	}
}

// Usage is the memory a cgroup uses now (memory.current) and its limit
// (memory.max; 0 for none), in bytes; ok false when the cgroup has no
// memory controller.
func Usage(dir string) (current, limit int64, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, "memory.current"))
	if err != nil {
		return 0, 0, false
	}
	current, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if b, err := os.ReadFile(filepath.Join(dir, "memory.max")); err == nil {
		limit, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64) // "max" is 0: none
	}
	return current, limit, true
}

// writeFile writes value to a cgroup interface file (created in a fake
// tree; the kernel's exist already).
func writeFile(name, value string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
