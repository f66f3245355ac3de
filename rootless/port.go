package rootless

import (
	"fmt"
	"net"
	"strconv"
)

// Port is a port published by a role, as the pod sees it: HostIP:HostPort
// on the host is forwarded to RolePort on the loopback of the pod's network
// namespace. The command layer converts env.Port to it.
type Port struct {
	HostIP   string `json:"hostIP,omitempty"` // "" means all addresses
	HostPort int    `json:"hostPort"`
	RolePort int    `json:"rolePort"`
	Proto    string `json:"proto"`          // "tcp" or "udp"
	Role     string `json:"role,omitempty"` // the role publishing it, for messages; may be empty
}

// String writes the port as nook.toml does: [HOST_IP:]HOST_PORT:ROLE_PORT/PROTO.
func (p Port) String() string {
	return fmt.Sprintf("%s:%d/%s", p.host(), p.RolePort, p.Proto)
}

// hostPort names the host side of p for messages: "8080/tcp" or
// "127.0.0.1:8080/tcp".
func (p Port) hostPort() string { return p.host() + "/" + p.Proto }

// host is [HOST_IP:]HOST_PORT, an IPv6 address in brackets.
func (p Port) host() string {
	if p.HostIP == "" {
		return strconv.Itoa(p.HostPort)
	}
	return net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
}
