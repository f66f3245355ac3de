package mounts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// idFileLimit bounds what is read of an image's /etc/passwd or /etc/group.
const idFileLimit = 4 << 20

// user carries out an OpUser: the user's /etc/passwd and /etc/group
// entries, then its home.
func (a *applier) user(op *Op) error {
	u := op.User
	if u == nil || !op.InRoot || path.Clean(op.Target) != "/etc" {
		return a.fail(op, "user", errors.New("an OpUser acts on /etc in the new root, for a user"))
	}
	rootfd, err := a.rootFD(op)
	if err != nil {
		return err
	}
	passwd, err := readInRoot(rootfd, "/etc/passwd")
	if err != nil {
		return a.fail(op, "reading /etc/passwd", err)
	}
	home := u.Home
	if entry := idEntry(passwd, u.UID); entry != nil {
		if h := field(entry, 5); path.IsAbs(h) {
			home = h
		}
	} else {
		shell := "/bin/sh"
		if fd, err := openInRoot(rootfd, "/bin/bash", 0); err == nil {
			unix.Close(fd)
			shell = "/bin/bash"
		}
		line := fmt.Sprintf("%s:x:%d:%d:%s:%s:%s\n", u.Name, u.UID, u.GID, u.Name, home, shell)
		if err := a.addEntry(op, "passwd", passwd, line); err != nil {
			return err
		}
	}
	group, err := readInRoot(rootfd, "/etc/group")
	if err != nil {
		return a.fail(op, "reading /etc/group", err)
	}
	if idEntry(group, u.GID) == nil {
		if err := a.addEntry(op, "group", group, fmt.Sprintf("%s:x:%d:\n", u.Name, u.GID)); err != nil {
			return err
		}
	}
	return a.home(op, rootfd, home)
}

// addEntry writes the image's /etc/NAME (data) with line added into the
// op's host directory and binds it over the image's.
func (a *applier) addEntry(op *Op, name string, data []byte, line string) error {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	file := &Op{Kind: OpWrite, Target: filepath.Join(op.Source, name), Mode: 0o644, Data: append(data, line...)}
	if err := a.write(file); err != nil {
		return err
	}
	return a.bind(&Op{Kind: OpBind, Source: file.Target, Target: "/etc/" + name, InRoot: true})
}

// home makes the user's home a directory the user can write: made (with
// its missing parents) when the root lacks it, a tmpfs over it when it is
// on a read-only mount (the host's base). What the init makes belongs to
// root of the role's namespace, which the user's own namespace maps to the
// user.
func (a *applier) home(op *Op, rootfd int, home string) error {
	fd, err := openInRoot(rootfd, home, unix.O_DIRECTORY)
	if errors.Is(err, unix.ENOENT) {
		fd, err = dirInRoot(rootfd, home, 0o755)
	}
	if err != nil {
		e := a.fail(op, "making the home directory", err)
		e.Target, e.InRoot = home, true
		return e
	}
	var st unix.Statfs_t
	err = unix.Fstatfs(fd, &st)
	unix.Close(fd)
	if err != nil {
		e := a.fail(op, "statfs", err)
		e.Target, e.InRoot = home, true
		return e
	}
	if st.Flags&unix.ST_RDONLY == 0 {
		return nil
	}
	return a.mountFS(&Op{Kind: OpMount, Target: home, InRoot: true, FSType: "tmpfs", Source: "home",
		Options: []string{"mode=0755"}, Flags: []string{"nosuid", "nodev"}})
}

// readOnly carries out an OpReadOnly: a recursive clone of the target's
// mount tree, made read-only, mounted back onto it.
func (a *applier) readOnly(op *Op) error {
	if !op.InRoot {
		return a.fail(op, string(op.Kind), errors.New("this op acts inside the new root only"))
	}
	rootfd, err := a.rootFD(op)
	if err != nil {
		return err
	}
	tfd, err := openInRoot(rootfd, op.Target, unix.O_DIRECTORY)
	if err != nil {
		return a.fail(op, "open", err)
	}
	defer unix.Close(tfd)
	tree, err := unix.OpenTree(tfd, "", unix.OPEN_TREE_CLONE|unix.O_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return a.fail(op, "open_tree", err)
	}
	defer unix.Close(tree)
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return a.fail(op, "mount_setattr", err)
	}
	if err := unix.MoveMount(tree, "", tfd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return a.fail(op, "move_mount", err)
	}
	return nil
}

// readInRoot reads the file p inside the root (nil when it does not
// exist), at most idFileLimit bytes.
func readInRoot(rootfd int, p string) ([]byte, error) {
	how := &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK, Resolve: inRoot}
	fd, err := openat2InRoot(rootfd, p, how)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	data, err := io.ReadAll(io.LimitReader(f, idFileLimit+1))
	if err == nil && len(data) > idFileLimit {
		err = fmt.Errorf("%s is larger than %d bytes", p, idFileLimit)
	}
	return data, err
}

// idEntry is the first entry of a passwd or group file whose third field,
// the id, is id; nil when there is none.
func idEntry(data []byte, id uint32) [][]byte {
	want := strconv.FormatUint(uint64(id), 10)
	for _, line := range bytes.Split(data, []byte("\n")) {
		f := bytes.Split(line, []byte(":"))
		if len(f) > 3 && len(line) > 0 && line[0] != '#' && string(f[2]) == want {
			return f
		}
	}
	return nil
}

// field is f[i] as a string, "" when f is shorter.
func field(f [][]byte, i int) string {
	if i < len(f) {
		return string(f[i])
	}
	return ""
}
