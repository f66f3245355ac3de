package env

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

const portSyntax = "[HOST_IP:]HOST_PORT:ROLE_PORT[/tcp|/udp]"

// parsePort parses [HOST_IP:]HOST_PORT:ROLE_PORT[/tcp|/udp]; an IPv6 host
// address is written in brackets: "[::1]:8080:80".
func parsePort(spec string) (Port, error) {
	bad := func(hint string) error {
		return badSpec(hint, "%q is not a port mapping; expected %s", spec, portSyntax)
	}
	p := Port{Proto: "tcp"}
	rest := spec
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		p.Proto = rest[i+1:]
		rest = rest[:i]
		if p.Proto != "tcp" && p.Proto != "udp" {
			return Port{}, badSpec("", "%q: unknown protocol %q; expected tcp or udp", spec, p.Proto)
		}
	}
	var parts []string
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]:")
		if end < 0 {
			return Port{}, bad("")
		}
		ip, err := netip.ParseAddr(rest[1:end])
		if err != nil || !ip.Is6() {
			return Port{}, badSpec("", "%q: %q is not an IPv6 address", spec, rest[1:end])
		}
		p.HostIP = ip.String()
		parts = strings.Split(rest[end+2:], ":")
		if len(parts) != 2 {
			return Port{}, bad("")
		}
	} else {
		parts = strings.Split(rest, ":")
		switch len(parts) {
		case 1:
			hint := ""
			if _, err := strconv.ParseUint(parts[0], 10, 16); err == nil {
				hint = fmt.Sprintf("write %q to publish role port %s on the same host port", parts[0]+":"+parts[0], parts[0])
			}
			return Port{}, bad(hint)
		case 2:
		case 3:
			ip, err := netip.ParseAddr(parts[0])
			if err != nil || !ip.Is4() {
				hint := ""
				if _, isNumber := strconv.ParseUint(parts[0], 10, 64); isNumber != nil {
					hint = `HOST_IP is an IP address, e.g. "127.0.0.1:8080:80"`
				}
				return Port{}, bad(hint)
			}
			p.HostIP = ip.String()
			parts = parts[1:]
		default:
			return Port{}, bad("write an IPv6 address in brackets: \"[::1]:8080:80\"")
		}
	}
	var err error
	if p.HostPort, err = portNumber(spec, parts[0]); err != nil {
		return Port{}, err
	}
	if p.RolePort, err = portNumber(spec, parts[1]); err != nil {
		return Port{}, err
	}
	return p, nil
}

// portNumber parses one port number, 1 to 65535.
func portNumber(spec, s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, badSpec("", "%q: %q is not a port number; expected %s", spec, s, portSyntax)
	}
	if n < 1 || n > 65535 {
		return 0, badSpec("", "%q: %d is not a port; expected 1 to 65535", spec, n)
	}
	return uint16(n), nil
}

// String writes the port back in nook.toml's syntax.
func (p Port) String() string {
	host := strconv.Itoa(int(p.HostPort))
	switch {
	case strings.Contains(p.HostIP, ":"):
		host = "[" + p.HostIP + "]:" + host
	case p.HostIP != "":
		host = p.HostIP + ":" + host
	}
	return fmt.Sprintf("%s:%d/%s", host, p.RolePort, p.Proto)
}

// overlaps reports whether two host addresses can clash: the same address,
// or one of them listening on every address (of its family).
func overlaps(a, b string) bool {
	if a == b || a == "" || b == "" || a == "::" || b == "::" {
		return true
	}
	ipA, errA := netip.ParseAddr(a)
	ipB, errB := netip.ParseAddr(b)
	if errA != nil || errB != nil {
		return false
	}
	if ipA.Is4() && ipB.Is4() {
		return ipA.IsUnspecified() || ipB.IsUnspecified()
	}
	return false
}
