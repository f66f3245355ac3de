package mounts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// useLowerdirPlus is cleared by tests to take the mount(2) fallback on a
// kernel that has "lowerdir+".
var useLowerdirPlus = true

// errNoLowerdirPlus says the kernel's overlay does not take "lowerdir+"
// (Linux < 6.8) or has no new mount API at all.
var errNoLowerdirPlus = errors.New(`overlay does not take "lowerdir+"`)

// overlay mounts the root overlay. The new mount API passes each lower
// dir on its own ("lowerdir+", Linux ≥ 6.8), so the number and length of
// layer paths is not bounded by mount(2)'s one page of options; where the
// kernel refuses that, mount(2) gets short relative names instead.
func (a *applier) overlay(op *Op) error {
	if err := a.hostOnly(op); err != nil {
		return err
	}
	err := a.overlayFsconfig(op)
	if errors.Is(err, errNoLowerdirPlus) {
		err = a.overlayClassic(op)
	}
	return err
}

func (a *applier) overlayFsconfig(op *Op) error {
	if !useLowerdirPlus {
		return errNoLowerdirPlus
	}
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if errors.Is(err, unix.ENOSYS) {
		return errNoLowerdirPlus
	}
	if err != nil {
		return a.fail(op, "fsopen", err)
	}
	defer unix.Close(fd)
	if legacyContext(fd) {
		return errNoLowerdirPlus
	}
	if op.Source != "" {
		if err := unix.FsconfigSetString(fd, "source", op.Source); err != nil {
			return a.fsFail(op, fd, "fsconfig source", err)
		}
	}
	for i, l := range op.Lowers {
		short, err := a.shortPath(op, strconv.Itoa(i), l)
		if err != nil {
			return err
		}
		if err := unix.FsconfigSetString(fd, "lowerdir+", short); err != nil {
			if i == 0 && errors.Is(err, unix.EINVAL) {
				return errNoLowerdirPlus
			}
			e := a.fsFail(op, fd, "fsconfig lowerdir+", err)
			e.Source = l
			return e
		}
	}
	for _, kv := range [][2]string{{"upperdir", op.Upper}, {"workdir", op.Work}} {
		short, err := a.shortPath(op, kv[0], kv[1])
		if err != nil {
			return err
		}
		if err := unix.FsconfigSetString(fd, kv[0], short); err != nil {
			e := a.fsFail(op, fd, "fsconfig "+kv[0], err)
			e.Source = kv[1]
			return e
		}
	}
	for _, o := range op.Options {
		if err := setOption(fd, o); err != nil {
			return a.fsFail(op, fd, "fsconfig "+o, err)
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return a.fsFail(op, fd, "fsconfig create", err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return a.fsFail(op, fd, "fsmount", err)
	}
	defer unix.Close(mfd)
	return a.attach(mfd, op, true)
}

// legacyContext reports whether the filesystem context fd is the kernel's
// wrapper for filesystems not ported to the new mount API (overlay before
// Linux 6.5): it takes any key unchecked, gathers them into one page of
// mount(2) options and lets the filesystem refuse them only at create.
// A ported filesystem refuses an unknown key at once.
func legacyContext(fd int) bool {
	err := unix.FsconfigSetFlag(fd, "nook-probe-unknown-key")
	fsLog(fd) // drop the "Unknown parameter" message
	return err == nil
}

// maxParam is the longest string fsconfig takes (the kernel copies at most
// 256 bytes with the final NUL, and refuses longer ones with EINVAL).
const maxParam = 255

// shortPath is dir when fsconfig can take it, else a symlink to it, named
// name in the op's LinkDir (overlay follows symlinks to its dirs).
func (a *applier) shortPath(op *Op, name, dir string) (string, error) {
	if len(dir) <= maxParam {
		return dir, nil
	}
	link := filepath.Join(op.LinkDir, name)
	if op.LinkDir == "" || len(link) > maxParam {
		return "", a.fail(op, "fsconfig", fmt.Errorf("%s: path longer than %d bytes, and no short link dir: %w", dir, maxParam, unix.ENAMETOOLONG))
	}
	if err := os.MkdirAll(op.LinkDir, 0o700); err != nil {
		return "", a.fail(op, "mkdir", err)
	}
	if err := os.Symlink(dir, link); err != nil {
		return "", a.fail(op, "symlink", err)
	}
	return link, nil
}

// overlayClassic mounts the overlay with mount(2). Its options must fit in
// one page, which a few dozen store paths would not: each lower, the upper
// and the work dir get a short symlink in LinkDir ("0", "1", …; overlay
// follows symlinks when it looks its dirs up), and the mount is made from
// inside LinkDir with those relative names.
func (a *applier) overlayClassic(op *Op) error {
	if op.LinkDir == "" {
		return a.fail(op, "mount", errors.New("no directory for short lower-dir names, and the kernel takes no \"lowerdir+\""))
	}
	if err := os.MkdirAll(op.LinkDir, 0o700); err != nil {
		return a.fail(op, "mkdir", err)
	}
	names := make([]string, len(op.Lowers))
	links := map[string]string{"upper": op.Upper, "work": op.Work}
	for i, l := range op.Lowers {
		names[i] = strconv.Itoa(i)
		links[names[i]] = l
	}
	for name, dir := range links {
		link := filepath.Join(op.LinkDir, name)
		// A link left by an attempt with the new mount API is replaced.
		if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
			return a.fail(op, "remove", err)
		}
		if err := os.Symlink(dir, link); err != nil {
			return a.fail(op, "symlink", err)
		}
	}
	data := "lowerdir=" + strings.Join(names, ":") + ",upperdir=upper,workdir=work"
	for _, o := range op.Options {
		data += "," + o
	}
	if len(data) >= os.Getpagesize() {
		return a.fail(op, "mount", fmt.Errorf("%d layers do not fit in one page of mount options: %w", len(op.Lowers), unix.E2BIG))
	}
	cwd, err := unix.Open(".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return a.fail(op, "open .", err)
	}
	defer unix.Close(cwd)
	if err := unix.Chdir(op.LinkDir); err != nil {
		return a.fail(op, "chdir "+op.LinkDir, err)
	}
	err = unix.Mount(op.Source, op.Target, "overlay", 0, data)
	if cerr := unix.Fchdir(cwd); err == nil && cerr != nil {
		return a.fail(op, "fchdir back", cerr)
	}
	if err != nil {
		e := a.fail(op, "mount", err)
		e.Flags = data
		return e
	}
	return nil
}
