package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Create makes the cgroup name under h.Base and writes l into it: the
// limits are in force before any process joins. A controller l needs that
// Base does not hand out yet is enabled there first. Stale cgroups of
// earlier runs whose nook is gone (killed with -9) are removed on the
// way. Call Remove once the role has ended.
func (h *Host) Create(name string, l Limits) (*Cgroup, error) {
	if h.Base == "" {
		return nil, fmt.Errorf("applying limits (%s): %s", l, h.Reason)
	}
	base := h.Dir(h.Base)
	var enable []string
	for _, c := range l.Controllers() {
		if !slices.Contains(h.Enabled, c) {
			enable = append(enable, "+"+c)
		}
	}
	if len(enable) > 0 {
		if err := writeFile(filepath.Join(base, "cgroup.subtree_control"), strings.Join(enable, " ")); err != nil {
			return nil, fmt.Errorf("enabling the %s controllers in cgroup %s: %w", strings.Join(enable, " "), h.Base, err)
		}
	}
	sweep(base)
	c := &Cgroup{Path: path.Join(h.Base, name), Dir: filepath.Join(base, name)}
	if err := os.Mkdir(c.Dir, 0o755); err != nil {
		if !errors.Is(err, fs.ErrExist) || unix.Rmdir(c.Dir) != nil || os.Mkdir(c.Dir, 0o755) != nil {
			return nil, fmt.Errorf("making cgroup %s: %w", c.Path, err)
		}
	}
	for _, s := range l.settings() {
		if err := writeFile(filepath.Join(c.Dir, s.file), s.value); err != nil && !s.optional {
			unix.Rmdir(c.Dir)
			return nil, fmt.Errorf("setting %s of cgroup %s to %s: %w", s.file, c.Path, s.value, err)
		}
	}
	fd, err := os.OpenFile(c.Dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Rmdir(c.Dir)
		return nil, fmt.Errorf("opening cgroup %s: %w", c.Path, err)
	}
	c.fd = fd
	return c, nil
}

// File is the cgroup's directory, open: AddProcess moves a process in
// through it, also in another process it was passed to.
func (c *Cgroup) File() *os.File { return c.fd }

// AddProcess moves the process pid, all its threads, into the cgroup whose
// directory dir is (a Cgroup's File).
func AddProcess(dir *os.File, pid int) error {
	fd, err := unix.Openat(int(dir.Fd()), "cgroup.procs", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("moving process %d into cgroup %s: %w", pid, dir.Name(), err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(strconv.Itoa(pid))); err != nil {
		return fmt.Errorf("moving process %d into cgroup %s: %w", pid, dir.Name(), err)
	}
	return nil
}

// Remove kills what is left in the cgroup, waits for it to empty and
// removes it.
func (c *Cgroup) Remove() error {
	if c.fd != nil {
		c.fd.Close()
	}
	_ = writeFile(filepath.Join(c.Dir, "cgroup.kill"), "1") // Linux ≥ 5.14; the role's processes are gone anyway
	err := unix.Rmdir(c.Dir)
	if errors.Is(err, unix.EBUSY) {
		waitEmpty(c.Dir)
		err = unix.Rmdir(c.Dir)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing cgroup %s: %w", c.Path, err)
	}
	return nil
}

// sweep removes, under base, the empty cgroups of nook processes that are
// gone.
func sweep(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, namePrefix) {
			continue
		}
		pid, err := strconv.Atoi(name[strings.LastIndexByte(name, '-')+1:])
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		unix.Rmdir(filepath.Join(base, name)) // fails while populated: left for later
	}
}

// emptyLimit bounds how long Remove waits for a cgroup's processes to
// go: they are being killed, and exit within milliseconds.
const emptyLimit = 2 * time.Second

// waitEmpty waits until the cgroup in dir has no process left ("populated
// 0" in its cgroup.events, which the kernel signals as a modification), or
// emptyLimit has passed.
func waitEmpty(dir string) {
	events := filepath.Join(dir, "cgroup.events")
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, events, unix.IN_MODIFY); err != nil {
		return
	}
	deadline := time.Now().Add(emptyLimit)
	buf := make([]byte, 4096)
	for {
		if b, err := os.ReadFile(events); err != nil || strings.Contains(string(b), "populated 0") {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && err != unix.EINTR {
			return
		}
		_, _ = unix.Read(fd, buf)
	}
}
