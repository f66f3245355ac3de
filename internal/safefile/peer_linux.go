package safefile

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// CheckPeer checks that the process serving the unix socket c (connected
// to path) runs as the user, before anything is sent on it: SO_PEERCRED
// names the user as the kernel saw it when the server listened. A socket
// served by someone else is an *UnsafeError; what names the socket.
func CheckPeer(c *net.UnixConn, what, path string) error {
	uid, pid, err := peer(c)
	if err != nil {
		return fmt.Errorf("checking who serves %s %s: %w", what, path, err)
	}
	if int(uid) != os.Getuid() {
		return &UnsafeError{What: what, Path: path,
			Problem: fmt.Sprintf("is served by %s (pid %d), not by you (uid %d); nook sent it nothing", uidName(uid), pid, os.Getuid()),
			Fix:     "it is not nook's: remove it (rm " + path + ") and run the command again"}
	}
	return nil
}

// SameUser reports whether the client connected to a server's socket c
// runs as the server does.
func SameUser(c *net.UnixConn) bool {
	uid, _, err := peer(c)
	return err == nil && int(uid) == os.Getuid()
}

// peer is the uid and pid of the other end of c.
func peer(c *net.UnixConn) (uid uint32, pid int32, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, 0, err
	}
	if credErr != nil {
		return 0, 0, credErr
	}
	return cred.Uid, cred.Pid, nil
}
