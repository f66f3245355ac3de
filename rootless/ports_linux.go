package rootless

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/nookenv/nook/internal/safefile"
)

// procRoot is where CheckPorts reads processes, sockets and sysctls.
const procRoot = "/proc"

// PortError is a published port that cannot be had: taken, privileged,
// claimed twice or not an address of this host. It ends nook with 125
// before anything starts.
type PortError struct {
	Port Port // the port at fault
	msg  string
	hint string
}

// Error names the port and what is wrong with it.
func (e *PortError) Error() string { return e.msg }

// Hint says how to free or change the port.
func (e *PortError) Hint() string { return e.hint }

// ExitCode is 125: nook's own error, found before the role started.
func (e *PortError) ExitCode() int { return exitNook }

// CheckPorts fails before anything starts when a host port of ports is
// claimed twice in the request, is below net.ipv4.ip_unprivileged_port_start,
// is not on an address of this host, or is taken. It finds out by binding
// each one (a TCP listen or a UDP bind on HostIP) and letting go; a taken
// port is reported with who holds it where it can tell: the process (from
// /proc/net/{tcp,udp}{,6} and /proc/*/fd) and, when that is a nook pod
// (a pod.json under runDir/pods), its project and role.
func CheckPorts(ports []Port, runDir string) error {
	for i, p := range ports {
		if err := validPort(p); err != nil {
			return err
		}
		for _, q := range ports[:i] {
			if q.Proto == p.Proto && q.HostPort == p.HostPort && hostsOverlap(q.HostIP, p.HostIP) {
				return &PortError{Port: p,
					msg:  fmt.Sprintf("host port %s is claimed twice: by %s and by %s", p.hostPort(), claimant(q), claimant(p)),
					hint: "each host port can be published once at a time; give one of them another HOST_PORT in nook.toml"}
			}
		}
	}
	start := unprivilegedPortStart()
	for _, p := range ports {
		if p.HostPort < start {
			return privilegedPortError(p, start)
		}
		if err := tryBind(p); err != nil {
			return portBindError(p, err, start, runDir)
		}
	}
	return nil
}

// validPort checks what the kernel would reject less clearly.
func validPort(p Port) error {
	bad := func(format string, args ...any) error {
		return &PortError{Port: p, msg: fmt.Sprintf("port %s: ", p) + fmt.Sprintf(format, args...),
			hint: "ports are written [HOST_IP:]HOST_PORT:ROLE_PORT[/udp], e.g. \"8080:80\""}
	}
	switch {
	case p.Proto != "tcp" && p.Proto != "udp":
		return bad("protocol %q is neither tcp nor udp", p.Proto)
	case p.HostPort < 1 || p.HostPort > 65535:
		return bad("host port %d is not between 1 and 65535", p.HostPort)
	case p.RolePort < 1 || p.RolePort > 65535:
		return bad("role port %d is not between 1 and 65535", p.RolePort)
	}
	if p.HostIP != "" {
		if _, err := netip.ParseAddr(p.HostIP); err != nil {
			return bad("%q is not an IP address", p.HostIP)
		}
	}
	return nil
}

// claimant names who publishes p, for messages.
func claimant(p Port) string {
	if p.Role != "" {
		return "role " + p.Role + " (" + p.String() + ")"
	}
	return p.String()
}

// hostsOverlap reports whether two host addresses can clash: the same, or
// one of them every address.
func hostsOverlap(a, b string) bool {
	ipA, errA := netip.ParseAddr(a)
	ipB, errB := netip.ParseAddr(b)
	if a == "" || b == "" || (errA == nil && ipA.IsUnspecified()) || (errB == nil && ipB.IsUnspecified()) {
		return true
	}
	return errA == nil && errB == nil && ipA.Unmap() == ipB.Unmap()
}

// unprivilegedPortStart is net.ipv4.ip_unprivileged_port_start of the
// host's network namespace (1024 when it cannot be read). nook-pod binds
// from a user namespace of its own, where even root lacks
// CAP_NET_BIND_SERVICE over the host's network, so it applies to root too.
func unprivilegedPortStart() int {
	return UnprivilegedPortStart(filepath.Join(procRoot, "sys"))
}

// UnprivilegedPortStart reads net.ipv4.ip_unprivileged_port_start under
// procSys (normally /proc/sys): the lowest host port nook can publish;
// 1024 when it cannot be read.
func UnprivilegedPortStart(procSys string) int {
	b, err := os.ReadFile(filepath.Join(procSys, "net/ipv4/ip_unprivileged_port_start"))
	if err != nil {
		return 1024
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 1024
	}
	return n
}

func privilegedPortError(p Port, start int) error {
	return &PortError{Port: p,
		msg: fmt.Sprintf("host port %s is below net.ipv4.ip_unprivileged_port_start (%d): nook publishes ports without privileges and cannot bind it",
			p.hostPort(), start),
		hint: LowPortRefusal(p, start).Hint()}
}

// LowPortRefusal says how to publish p, whose host port is below start
// (net.ipv4.ip_unprivileged_port_start): lower the start to it, or publish
// a higher port.
func LowPortRefusal(p Port, start int) Refusal {
	// Suggest the port's number in the 8000s, as is common (80 → 8080),
	// or above the limit when that is higher still.
	suggest := 8000 + p.HostPort%1000
	if suggest < start {
		suggest = start + p.HostPort%1000
	}
	const s = "net.ipv4.ip_unprivileged_port_start"
	v := strconv.Itoa(p.HostPort)
	return Refusal{
		Problem: fmt.Sprintf("host ports below %d are privileged (%s = %d)", start, s, start),
		Fix:     []string{"sudo sysctl " + s + "=" + v},
		Keep:    []string{keepSysctl(s, v, "90-nook-ports.conf")},
		Or:      []string{fmt.Sprintf("publish a host port of %d or more instead (e.g. \"%d:%d\")", start, suggest, p.RolePort)},
	}
}

// tryBind binds p's host address and port as the forwarder will, and lets
// go at once.
func tryBind(p Port) error {
	addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
	if p.Proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

// portBindError explains why binding p failed.
func portBindError(p Port, err error, start int, runDir string) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		holder, hint := portHolder(p, runDir)
		return &PortError{Port: p,
			msg:  fmt.Sprintf("host port %s is taken by %s", p.hostPort(), holder),
			hint: hint}
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		return privilegedPortError(p, start)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return &PortError{Port: p,
			msg:  fmt.Sprintf("host address %s of port %s is not an address of this host", p.HostIP, p),
			hint: "use an address of one of this host's interfaces, or leave HOST_IP out to publish on every address"}
	}
	return &PortError{Port: p, msg: fmt.Sprintf("checking host port %s: %v", p.hostPort(), err)}
}

// portHolder names who holds p's host port, as well as this user can see,
// and says how to free it.
func portHolder(p Port, runDir string) (holder, hint string) {
	other := fmt.Sprintf("publish another host port in nook.toml (e.g. \"%d:%d\")", p.HostPort+1, p.RolePort)
	pid := socketOwner(socketInodes(p))
	if pid == 0 {
		ss := "-lptn"
		if p.Proto == "udp" {
			ss = "-lpun"
		}
		return "another process (one nook cannot see: another user's, or in another namespace)",
			fmt.Sprintf("find it with `sudo ss %s 'sport = :%d'`, stop it, or %s", ss, p.HostPort, other)
	}
	pod, ok := nookPodOf(pid, runDir)
	if !ok {
		return fmt.Sprintf("pid %d (%s)", pid, processCommand(pid)), fmt.Sprintf("stop pid %d, or %s", pid, other)
	}
	name, role := pod.Name, ""
	if name == "" {
		name = pod.Project
	}
	for _, r := range pod.Roles {
		for _, q := range r.Ports {
			if q.HostPort == p.HostPort && (q.Proto == "" || q.Proto == p.Proto) {
				role = r.Role
			}
		}
	}
	who, stop := fmt.Sprintf("nook project %s (pod pid %d)", name, pid), "nook stop"
	if role != "" {
		who, stop = fmt.Sprintf("nook project %s (role %s, pod pid %d)", name, role, pid), "nook stop "+role
	}
	if dir := projectDir(runDir, pod.Project); dir != "" {
		return who, fmt.Sprintf("stop it with `nook -C %s %s`, or %s", dir, strings.TrimPrefix(stop, "nook "), other)
	}
	return who, fmt.Sprintf("stop it with `%s` in that project, or %s", stop, other)
}

// socketInodes are the inodes of the sockets in /proc/net/{proto,proto6}
// bound to p's host port on an address overlapping p's: listening ones
// for TCP, any for UDP.
func socketInodes(p Port) map[string]bool {
	inodes := map[string]bool{}
	for _, table := range []string{p.Proto, p.Proto + "6"} {
		f, err := os.Open(filepath.Join(procRoot, "net", table))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			ip, port, ok := parseProcNetAddr(fields[1])
			if !ok || port != p.HostPort || fields[9] == "0" {
				continue
			}
			if p.Proto == "tcp" && fields[3] != "0A" { // TCP_LISTEN
				continue
			}
			if !hostsOverlap(p.HostIP, ip.String()) {
				continue
			}
			inodes[fields[9]] = true
		}
		f.Close()
	}
	return inodes
}

// parseProcNetAddr reads "0100007F:1F90" (IPv4) or 32 hex digits and a
// port (IPv6), each 32-bit word of the address in the host's byte order.
func parseProcNetAddr(s string) (netip.Addr, int, bool) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	raw, err := hex.DecodeString(hexIP)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.Addr{}, 0, false
	}
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.NativeEndian.Uint32(raw[i:]))
	}
	ip, _ := netip.AddrFromSlice(b)
	return ip.Unmap(), int(port), true
}

// socketOwner is the first process with a descriptor on one of the socket
// inodes, or 0. Only processes this user may inspect are seen.
func socketOwner(inodes map[string]bool) int {
	if len(inodes) == 0 {
		return 0
	}
	procs, err := os.ReadDir(procRoot)
	if err != nil {
		return 0
	}
	for _, d := range procs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join(procRoot, d.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				return pid
			}
		}
	}
	return 0
}

// processCommand is pid's command line, shortened, or its name.
func processCommand(pid int) string {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "cmdline"))
	cmd := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	if err != nil || cmd == "" {
		b, _ = os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "comm"))
		cmd = strings.TrimSpace(string(b))
	}
	if len(cmd) > 60 {
		cmd = cmd[:57] + "..."
	}
	return cmd
}

// nookPodOf is the pod.json under runDir/pods of the nook pod whose
// process is pid, if pid is one (and not a reused pid: the start times
// must agree).
func nookPodOf(pid int, runDir string) (podFile, bool) {
	if runDir == "" {
		return podFile{}, false
	}
	files, _ := filepath.Glob(filepath.Join(runDir, "pods", "*", "pod.json"))
	start, haveStart := processStartTime(pid)
	for _, f := range files {
		b, err := safefile.ReadOwned(f) // a forged record must not name a pod
		if err != nil {
			continue
		}
		var st podFile // pod.json, as nook-pod writes it
		if json.Unmarshal(b, &st) != nil || st.Pid != pid || (haveStart && st.Start != 0 && st.Start != start) {
			continue
		}
		return st, true
	}
	return podFile{}, false
}

// projectDir is the directory of project id (holding its nook.toml), from
// the run state `nook up` and `nook run` keep under runDir/projects/id, or
// "" when none says.
func projectDir(runDir, id string) string {
	if id == "" {
		return ""
	}
	dir := filepath.Join(runDir, "projects", id)
	roles, _ := filepath.Glob(filepath.Join(dir, "roles", "*.json"))
	for _, f := range append([]string{filepath.Join(dir, "supervisor.json")}, roles...) {
		var st struct {
			ProjectDir string `json:"projectDir"`
		}
		if b, err := safefile.ReadOwned(f); err == nil && json.Unmarshal(b, &st) == nil && st.ProjectDir != "" {
			return st.ProjectDir
		}
	}
	return ""
}

// processStartTime is field 22 of /proc/PID/stat, the process's start time in
// clock ticks since boot.
func processStartTime(pid int) (uint64, bool) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	// The command (field 2) is in parentheses and may hold anything.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(fields[19], 10, 64) // field 22; fields[0] is field 3
	return n, err == nil
}
