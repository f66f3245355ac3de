package layers

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/internal/safefile"
)

// fileLock is an exclusive flock(2) on a file under locks/. The kernel drops
// it when the holder exits, however it exits, so a killed nook never leaves a
// layer locked. flock locks belong to the open file, so two locks taken in one
// process exclude each other as two processes' locks do.
type fileLock struct {
	f *os.File
}

// openLockFile opens (creating) the lock file at path, following no
// symbolic link.
func openLockFile(path string) (*os.File, error) {
	return safefile.OpenLock("the lock", path)
}

// lockFile takes the lock at path, waiting for its holder to let go. If ctx
// ends first it returns ctx's error; the wait goes on in the background and
// lets go of the lock as soon as it gets it.
func lockFile(ctx context.Context, path string) (*fileLock, error) {
	for {
		l, err := lockFileOnce(ctx, path)
		if err != errLockFileGone {
			return l, err
		}
	}
}

// errLockFileGone says that the lock file was removed (by gc) while it was
// being locked: the lock is worthless and must be taken again on a new file.
var errLockFileGone = errors.New("lock file removed while locking")

// stillLinked reports whether f is still the file at path: gc removes the
// lock files of absent layers under their lock, and a lock on a removed file
// excludes nobody who opens the path afresh.
func stillLinked(f *os.File, path string) bool {
	var held, cur unix.Stat_t
	if unix.Fstat(int(f.Fd()), &held) != nil || unix.Stat(path, &cur) != nil {
		return false
	}
	return held.Dev == cur.Dev && held.Ino == cur.Ino
}

// lockFileOnce is lockFile on the file at path as it is now.
func lockFileOnce(ctx context.Context, path string) (*fileLock, error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	// Fast path: nobody holds it.
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err == nil {
		if !stillLinked(f, path) {
			f.Close()
			return nil, errLockFileGone
		}
		return &fileLock{f: f}, nil
	} else if err != unix.EWOULDBLOCK {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	got := make(chan error, 1)
	go func() { got <- flock(f, unix.LOCK_EX) }()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !stillLinked(f, path) {
			f.Close()
			return nil, errLockFileGone
		}
		return &fileLock{f: f}, nil
	case <-ctx.Done():
		go func() {
			<-got
			f.Close() // closing the last descriptor releases the lock
		}()
		return nil, ctx.Err()
	}
}

// tryLockFile takes the lock at path if nobody holds it; ok is false when
// someone does.
func tryLockFile(path string) (l *fileLock, ok bool, err error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, false, err
	}
	switch err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err {
	case nil:
		if !stillLinked(f, path) {
			f.Close()
			return tryLockFile(path)
		}
		return &fileLock{f: f}, true, nil
	case unix.EWOULDBLOCK:
		f.Close()
		return nil, false, nil
	default:
		f.Close()
		return nil, false, fmt.Errorf("locking %s: %w", path, err)
	}
}

// unlock releases the lock.
func (l *fileLock) unlock() {
	l.f.Close()
}

// flock calls flock(2), retrying when a signal interrupts the wait.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}
