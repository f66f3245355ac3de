//go:build !linux

package safefile

import (
	"errors"
	"net"
)

// CheckPeer checks who serves a unix socket; it needs Linux.
func CheckPeer(c *net.UnixConn, what, path string) error {
	return errors.New("checking who serves " + what + " " + path + ": needs Linux")
}

// SameUser reports whether a socket's client is the server's user; it
// needs Linux.
func SameUser(c *net.UnixConn) bool { return false }
