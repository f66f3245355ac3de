package doctor

import (
	"fmt"
	"slices"

	"github.com/nookenv/nook/rootless"
)

// checkOutbound checks what roles on the private network need to reach
// beyond the pod: slirp4netns and /dev/net/tun.
func checkOutbound(m *Machine) Result {
	res := Result{Name: "outbound network", Status: OK}
	path, r := rootless.OutboundRefusal(m.LookPath, m.path("dev/net/tun"))
	if r != nil {
		res.Status = Warn
		res.Summary = r.Problem + ": roles on the private network get loopback only, and build steps the host's network"
		return res.fixedBy(*r)
	}
	res.Summary = fmt.Sprintf("%s and /dev/net/tun: roles reach the network through slirp4netns", path)
	return res
}

// checkPorts checks net.ipv4.ip_unprivileged_port_start against the host
// ports the project publishes.
func checkPorts(m *Machine) Result {
	res := Result{Name: "ports", Status: OK}
	start := rootless.UnprivilegedPortStart(m.path("proc/sys"))
	var low []rootless.Port
	if p := m.Project; p != nil && p.Env != nil {
		for _, name := range p.Env.RoleNames() {
			for _, port := range p.Env.Roles[name].Ports {
				if int(port.HostPort) < start {
					low = append(low, rootless.Port{HostIP: port.HostIP, HostPort: int(port.HostPort), RolePort: int(port.RolePort), Proto: port.Proto, Role: name})
				}
			}
		}
	}
	if len(low) == 0 {
		res.Summary = fmt.Sprintf("host ports from %d up can be published (net.ipv4.ip_unprivileged_port_start = %d)", start, start)
		return res
	}
	slices.SortFunc(low, func(a, b rootless.Port) int { return a.HostPort - b.HostPort })
	names := make([]string, len(low))
	for i, p := range low {
		names[i] = fmt.Sprintf("%d (role %s)", p.HostPort, p.Role)
	}
	r := rootless.LowPortRefusal(low[0], start)
	res.Status = Fail
	res.Summary = fmt.Sprintf("the project publishes host ports below %d, which nook cannot bind: %s", start, joinList(names))
	return res.fixedBy(r)
}
