package mounts

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Apply carries the plan out. It runs in nook's init process, already
// inside new user, mount and pid namespaces (uid 0 inside is the invoking
// user outside), and ends, after the plan's OpPivotRoot, in the new root
// with the old root detached and the working directory at "/". The first
// op that fails stops it; the error is a *MountError naming the operation,
// source, target, filesystem type and flags.
func (p *Plan) Apply() error {
	a := &applier{root: p.Root, rootfd: -1}
	defer a.closeRoot()
	// Modes in the plan are meant exactly; the role gets the umask back.
	defer unix.Umask(unix.Umask(0))
	for i := range p.Ops {
		if err := a.apply(&p.Ops[i]); err != nil {
			return err
		}
	}
	return nil
}

// applier carries out ops one by one.
type applier struct {
	root   string // host path of the new root
	rootfd int    // O_PATH descriptor of the new root once mounted; -1 before
}

func (a *applier) apply(op *Op) error {
	var err error
	switch op.Kind {
	case OpSlave:
		err = a.slave(op)
	case OpMkdir:
		err = a.mkdir(op)
	case OpWrite:
		err = a.write(op)
	case OpMount:
		err = a.mountFS(op)
	case OpOverlay:
		err = a.overlay(op)
	case OpBind:
		err = a.bind(op)
	case OpSymlink:
		err = a.symlink(op)
	case OpPivotRoot:
		err = a.pivotRoot(op)
	case OpUser:
		err = a.user(op)
	case OpReadOnly:
		err = a.readOnly(op)
	default:
		err = a.fail(op, "apply", fmt.Errorf("unknown op kind %q", op.Kind))
	}
	if !op.InRoot && op.Target == a.root {
		// Something new is mounted at the root: look it up afresh.
		a.closeRoot()
	}
	return err
}

// fail wraps err, from the call named call, as the failure of op.
func (a *applier) fail(op *Op, call string, err error) *MountError {
	e := &MountError{Op: call, Source: op.Source, Target: op.Target, InRoot: op.InRoot, FSType: op.FSType, Err: err}
	if op.Kind == OpBind {
		e.FSType = "bind"
	}
	if op.Kind == OpOverlay {
		e.FSType = "overlay"
	}
	e.Flags = strings.Join(slices.Concat(op.Options, op.Flags), ",")
	return e
}

// hostOnly refuses an op kind that only acts on host paths but was given
// a target inside the new root.
func (a *applier) hostOnly(op *Op) error {
	if op.InRoot {
		return a.fail(op, string(op.Kind), errors.New("this op acts on host paths only"))
	}
	return nil
}

// slave makes the mounts at and under the target slaves, recursively.
func (a *applier) slave(op *Op) error {
	if err := a.hostOnly(op); err != nil {
		return err
	}
	if err := unix.Mount("", op.Target, "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		e := a.fail(op, "mount", err)
		e.Flags = "MS_SLAVE|MS_REC"
		return e
	}
	return nil
}

func (a *applier) mkdir(op *Op) error {
	if op.InRoot {
		rootfd, err := a.rootFD(op)
		if err != nil {
			return err
		}
		fd, err := dirInRoot(rootfd, op.Target, op.Mode)
		if err != nil {
			return a.fail(op, "mkdir", err)
		}
		unix.Close(fd)
		return nil
	}
	if err := os.MkdirAll(op.Target, os.FileMode(op.Mode)); err != nil {
		return a.fail(op, "mkdir", err)
	}
	return nil
}

func (a *applier) write(op *Op) error {
	if err := a.hostOnly(op); err != nil {
		return err
	}
	f, err := os.OpenFile(op.Target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, os.FileMode(op.Mode))
	if err != nil {
		return a.fail(op, "write", err)
	}
	_, err = f.Write(op.Data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return a.fail(op, "write", err)
	}
	return nil
}

func (a *applier) symlink(op *Op) error {
	if !op.InRoot {
		if err := os.Symlink(op.Link, op.Target); err != nil {
			return a.fail(op, "symlink", err)
		}
		return nil
	}
	rootfd, err := a.rootFD(op)
	if err != nil {
		return err
	}
	if err := symlinkInRoot(rootfd, op.Target, op.Link); err != nil {
		return a.fail(op, "symlink", err)
	}
	return nil
}

// rootFD opens the new root, once it is mounted, for resolving targets
// inside it.
func (a *applier) rootFD(op *Op) (int, error) {
	if a.rootfd >= 0 {
		return a.rootfd, nil
	}
	fd, err := unix.Open(a.root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		e := a.fail(op, "opening the new root", err)
		e.Target = a.root
		e.InRoot = false
		return -1, e
	}
	a.rootfd = fd
	return fd, nil
}

func (a *applier) closeRoot() {
	if a.rootfd >= 0 {
		unix.Close(a.rootfd)
		a.rootfd = -1
	}
}
