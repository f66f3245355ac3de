package rootless

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// netChildEnv holds a netRequest as JSON: with it set, the test binary is
// a stand-in for nook-pod, started by startNetChild in a user namespace of
// its own but in the host's network namespace, as nook-pod is.
const netChildEnv = "NOOK_NET_TEST_CHILD"

func init() {
	// In init rather than TestMain: the child needs nothing of the tests.
	if s := os.Getenv(netChildEnv); s != "" {
		os.Exit(netChildMain(s))
	}
}

// netRequest is what the child is to do: make a Network, serve an echo on
// each port's RolePort inside it, publish the ports, dial addresses from
// inside it.
type netRequest struct {
	StateDir string
	Outbound bool
	Tun      string // replaces /dev/net/tun when set
	Ports    []Port
	Dial     []string // TCP addresses to dial from inside the namespace
}

// netReport is what the child saw, sent on its stdout once everything is
// in place; it then waits for its stdin to close, and closes the Network.
type netReport struct {
	Err        string // NewNetwork's error
	NetNS      uint64 // inode of the Network's namespace
	Notice     string
	ResolvConf string
	AddErr     string // AddPorts' error
	Dials      []dialResult
}

type dialResult struct {
	Addr  string
	Reply string // the first line the server sent
	Err   string
}

// dialTimeout bounds a dial from inside the namespace, so that a dropped
// SYN fails the dial instead of hanging the test.
const dialTimeout = 5 * time.Second

func netChildMain(s string) int {
	var req netRequest
	if err := json.Unmarshal([]byte(s), &req); err != nil {
		fmt.Fprintln(os.Stderr, "net child:", err)
		return 2
	}
	if req.Tun != "" {
		tunDevice = req.Tun
	}
	out := json.NewEncoder(os.Stdout)
	var rep netReport
	n, err := NewNetwork(req.StateDir, req.Outbound)
	if err != nil {
		rep.Err = err.Error()
		out.Encode(rep)
		return 0
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(n.NSFile().Fd()), &st); err != nil {
		fmt.Fprintln(os.Stderr, "net child:", err)
		return 2
	}
	rep.NetNS, rep.Notice, rep.ResolvConf = st.Ino, n.Notice(), string(n.ResolvConf())
	for _, p := range req.Ports {
		if err := serveEcho(n.NSFile(), p, st.Ino); err != nil {
			fmt.Fprintln(os.Stderr, "net child:", err)
			return 2
		}
	}
	remove := func() {}
	if r, err := n.AddPorts(req.Ports); err != nil {
		rep.AddErr = err.Error()
	} else {
		remove = r
	}
	for _, addr := range req.Dial {
		d := dialResult{Addr: addr}
		err := inNetNS(n.NSFile(), func() error {
			c, err := net.DialTimeout("tcp", addr, dialTimeout)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(dialTimeout))
			line, err := bufio.NewReader(c).ReadString('\n')
			d.Reply = strings.TrimSuffix(line, "\n")
			return err
		})
		if err != nil {
			d.Err = err.Error()
		}
		rep.Dials = append(rep.Dials, d)
	}
	out.Encode(rep)
	io.Copy(io.Discard, os.Stdin)
	remove()
	if err := n.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "net child: closing:", err)
		return 1
	}
	return 0
}

// serveEcho listens on 127.0.0.1:p.RolePort inside ns and answers each TCP
// line or UDP datagram with "INODE TEXT": the inode tells the test which
// network namespace answered.
func serveEcho(ns *os.File, p Port, inode uint64) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.RolePort))
	return inNetNS(ns, func() error {
		if p.Proto == "udp" {
			c, err := net.ListenPacket("udp", addr)
			if err != nil {
				return err
			}
			go func() {
				buf := make([]byte, 1500)
				for {
					k, from, err := c.ReadFrom(buf)
					if err != nil {
						return
					}
					c.WriteTo(fmt.Appendf(nil, "%d %s", inode, buf[:k]), from)
				}
			}()
			return nil
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					line, err := bufio.NewReader(c).ReadString('\n')
					if err == nil {
						fmt.Fprintf(c, "%d %s", inode, line)
					}
				}()
			}
		}()
		return nil
	})
}

// netChild is a running stand-in for nook-pod.
type netChild struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stderr   *bytes.Buffer
	stateDir string
	report   netReport
}

// startNetChild runs req in a re-executed test binary in a new user
// namespace (this user mapped to root, nothing else) and returns once it
// has reported. env is added to its environment.
func startNetChild(t *testing.T, req netRequest, env ...string) *netChild {
	t.Helper()
	if req.StateDir == "" {
		req.StateDir = filepath.Join(t.TempDir(), "net") // NewNetwork makes it
	}
	payload, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	c := &netChild{stderr: &bytes.Buffer{}, stateDir: req.StateDir}
	c.cmd = exec.Command("/proc/self/exe")
	c.cmd.Env = append(append(os.Environ(), env...), netChildEnv+"="+string(payload))
	c.cmd.Stderr = c.stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting the test binary in a new user namespace: %v", err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	if err := json.NewDecoder(stdout).Decode(&c.report); err != nil {
		c.cmd.Wait()
		t.Fatalf("reading the child's report: %v\nits stderr:\n%s", err, c.stderr)
	}
	if c.report.Err != "" {
		t.Fatalf("NewNetwork: %s\nstderr:\n%s", c.report.Err, c.stderr)
	}
	return c
}

// close tells the child to close its Network and waits for it to exit 0.
func (c *netChild) close(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("net child: %v\nstderr:\n%s", err, c.stderr)
	}
}

// freePort is a host port nothing uses right now for proto, below the
// kernel's ephemeral range (ip_local_port_range starts at 32768), so that no
// outgoing connection of another test takes it as its source port.
func freePort(t *testing.T, proto string) int {
	t.Helper()
	for range 1000 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		if proto == "udp" {
			if c, err := net.ListenPacket("udp", addr); err == nil {
				c.Close()
				return c.LocalAddr().(*net.UDPAddr).Port
			}
			continue
		}
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return l.Addr().(*net.TCPAddr).Port
		}
	}
	t.Fatal("no free port between 20000 and 32000")
	return 0
}

// hostNetNS is the inode of this process's network namespace.
func hostNetNS(t *testing.T) uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// hostAddress is an IPv4 address of this host other than loopback, or
// the test is skipped.
func hostAddress(t *testing.T) string {
	t.Helper()
	addr := firstHostAddress()
	if addr == "" {
		t.Skip("this host has no IPv4 address besides loopback")
	}
	return addr
}

// exchange sends text to addr over proto and returns the first reply.
func exchange(t *testing.T, proto, addr, text string) (string, error) {
	t.Helper()
	c, err := net.DialTimeout(proto, addr, dialTimeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(dialTimeout))
	if _, err := io.WriteString(c, text+"\n"); err != nil {
		return "", err
	}
	if proto == "udp" {
		buf := make([]byte, 1500)
		k, err := c.Read(buf)
		return strings.TrimSuffix(string(buf[:k]), "\n"), err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// wantForwarded checks that text sent to addr reaches the echo inside the
// child's namespace and comes back.
func wantForwarded(t *testing.T, c *netChild, proto, addr string) {
	t.Helper()
	text := fmt.Sprintf("hello %s %d", proto, time.Now().UnixNano())
	got, err := exchange(t, proto, addr, text)
	if err != nil {
		t.Fatalf("%s %s: %v\nchild stderr:\n%s", proto, addr, err, c.stderr)
	}
	if want := fmt.Sprintf("%d %s", c.report.NetNS, text); got != want {
		t.Fatalf("%s %s answered %q, want %q (from the pod's namespace)", proto, addr, got, want)
	}
}

// wantFree checks that nothing holds port on the host any more.
func wantFree(t *testing.T, p Port) {
	t.Helper()
	if err := tryBind(p); err != nil {
		t.Errorf("host port %s still held after the Network closed: %v", p.hostPort(), err)
	}
}

func TestNetworkForwardsTCPAndUDP(t *testing.T) {
	ports := []Port{
		{HostPort: freePort(t, "tcp"), RolePort: 8080, Proto: "tcp"},
		{HostPort: freePort(t, "tcp"), RolePort: 9090, Proto: "tcp"},
		{HostPort: freePort(t, "udp"), RolePort: 5353, Proto: "udp"},
	}
	c := startNetChild(t, netRequest{Ports: ports})
	if c.report.AddErr != "" {
		t.Fatalf("AddPorts: %s", c.report.AddErr)
	}
	if c.report.NetNS == hostNetNS(t) {
		t.Fatal("the Network's namespace is the host's")
	}
	for _, p := range ports {
		wantForwarded(t, c, p.Proto, net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HostPort)))
	}
	// HostIP "" is every address: the host's other addresses, and IPv6
	// loopback where the host has it.
	if addr := firstHostAddress(); addr != "" {
		wantForwarded(t, c, "tcp", net.JoinHostPort(addr, strconv.Itoa(ports[0].HostPort)))
	}
	if l, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		l.Close()
		wantForwarded(t, c, "tcp", net.JoinHostPort("::1", strconv.Itoa(ports[0].HostPort)))
	}
	state := c.stateDir
	c.close(t)
	for _, p := range ports {
		wantFree(t, p)
	}
	if left, _ := os.ReadDir(state); len(left) != 0 {
		t.Errorf("the Network left %v in its state directory", left)
	}
}

func TestNetworkHostIP(t *testing.T) {
	addr := hostAddress(t)
	p := Port{HostIP: "127.0.0.1", HostPort: freePort(t, "tcp"), RolePort: 8080, Proto: "tcp"}
	c := startNetChild(t, netRequest{Ports: []Port{p}})
	if c.report.AddErr != "" {
		t.Fatalf("AddPorts: %s", c.report.AddErr)
	}
	wantForwarded(t, c, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HostPort)))
	if got, err := exchange(t, "tcp", net.JoinHostPort(addr, strconv.Itoa(p.HostPort)), "hi"); err == nil {
		t.Errorf("port published on 127.0.0.1 answered on %s: %q", addr, got)
	}
	c.close(t)
	wantFree(t, p)
}

func TestNetworkAddPortsAllOrNothing(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	free := Port{HostPort: freePort(t, "tcp"), RolePort: 8080, Proto: "tcp"}
	taken := Port{HostIP: "127.0.0.1", HostPort: held.Addr().(*net.TCPAddr).Port, RolePort: 9090, Proto: "tcp"}
	c := startNetChild(t, netRequest{Ports: []Port{free, taken}})
	if !strings.Contains(c.report.AddErr, strconv.Itoa(taken.HostPort)) {
		t.Fatalf("AddPorts with a taken port: error %q, want one naming port %d", c.report.AddErr, taken.HostPort)
	}
	// The child still runs: the free port must have been let go already.
	wantFree(t, free)
	c.close(t)
}

func TestNetworkSlirpOutbound(t *testing.T) {
	if _, err := exec.LookPath("slirp4netns"); err != nil {
		t.Skip("slirp4netns is not installed")
	}
	if f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0); err != nil {
		t.Skipf("/dev/net/tun does not open for this user: %v", err)
	} else {
		f.Close()
	}
	addr := hostAddress(t)
	token := fmt.Sprintf("reached %d", time.Now().UnixNano())
	outside := serveLine(t, net.JoinHostPort(addr, "0"), token)
	loopback := serveLine(t, "127.0.0.1:0", "the host's loopback")
	_, loopPort, _ := net.SplitHostPort(loopback)
	c := startNetChild(t, netRequest{Outbound: true, Dial: []string{
		outside,
		net.JoinHostPort("10.0.2.2", loopPort), // slirp4netns's gateway: the host, but not its loopback
		loopback,                               // the pod's own loopback, where nothing listens
	}})
	if c.report.Notice != "" {
		t.Fatalf("slirp4netns is installed and /dev/net/tun opens, yet: %s\nstderr:\n%s", c.report.Notice, c.stderr)
	}
	if c.report.ResolvConf != slirpResolvConf {
		t.Errorf("ResolvConf = %q, want %q", c.report.ResolvConf, slirpResolvConf)
	}
	d := c.report.Dials
	if d[0].Err != "" || d[0].Reply != token {
		t.Errorf("dialling %s (the host, not loopback) from the pod: reply %q, error %q; want %q", d[0].Addr, d[0].Reply, d[0].Err, token)
	}
	for _, d := range d[1:] {
		if d.Err == "" {
			t.Errorf("dialling %s from the pod reached the host's loopback: %q", d.Addr, d.Reply)
		}
	}
	c.close(t)
}

func TestNetworkSlirpDiesWithPod(t *testing.T) {
	if _, err := exec.LookPath("slirp4netns"); err != nil {
		t.Skip("slirp4netns is not installed")
	}
	c := startNetChild(t, netRequest{Outbound: true})
	if c.report.Notice != "" {
		t.Skipf("no slirp4netns here: %s", c.report.Notice)
	}
	pids := children(t, c.cmd.Process.Pid)
	if len(pids) != 1 {
		t.Fatalf("the pod has children %v, want one slirp4netns", pids)
	}
	slirpPid := pids[0]
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", slirpPid)); strings.TrimSpace(string(comm)) != "slirp4netns" {
		t.Fatalf("the pod's child %d is %q, want slirp4netns", slirpPid, comm)
	}
	pidfd, err := unix.PidfdOpen(slirpPid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	// kill -9 of the pod: slirp4netns sees its exit descriptor close.
	c.cmd.Process.Kill()
	c.cmd.Wait()
	if !exits(t, pidfd, dialTimeout) {
		t.Fatalf("slirp4netns (pid %d) still runs %v after its pod was killed", slirpPid, dialTimeout)
	}
}

func TestNetworkWithoutSlirp(t *testing.T) {
	addr := hostAddress(t)
	outside := serveLine(t, net.JoinHostPort(addr, "0"), "reached")
	p := Port{HostPort: freePort(t, "tcp"), RolePort: 8080, Proto: "tcp"}
	c := startNetChild(t, netRequest{Outbound: true, Ports: []Port{p}, Dial: []string{outside}},
		"PATH="+t.TempDir())
	if !strings.Contains(c.report.Notice, "slirp4netns is not installed") || !strings.Contains(c.report.Notice, "loopback only") {
		t.Errorf("Notice = %q, want one saying slirp4netns is not installed and roles have loopback only", c.report.Notice)
	}
	if d := c.report.Dials[0]; d.Err == "" {
		t.Errorf("a loopback-only pod reached %s: %q", d.Addr, d.Reply)
	}
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	if c.report.ResolvConf != string(hostResolv) {
		t.Errorf("ResolvConf = %q, want the host's %q", c.report.ResolvConf, hostResolv)
	}
	// Published ports work without slirp4netns.
	wantForwarded(t, c, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.HostPort)))
	c.close(t)
}

func TestNetworkWithoutTun(t *testing.T) {
	if _, err := exec.LookPath("slirp4netns"); err != nil {
		t.Skip("slirp4netns is not installed")
	}
	tun := filepath.Join(t.TempDir(), "tun")
	c := startNetChild(t, netRequest{Outbound: true, Tun: tun})
	if !strings.Contains(c.report.Notice, tun+" cannot be opened") || !strings.Contains(c.report.Notice, "loopback only") {
		t.Errorf("Notice = %q, want one saying %s cannot be opened and roles have loopback only", c.report.Notice, tun)
	}
	c.close(t)
}

func TestNetworkNoOutboundNoNotice(t *testing.T) {
	c := startNetChild(t, netRequest{Outbound: false}, "PATH="+t.TempDir())
	if c.report.Notice != "" {
		t.Errorf("Notice = %q without outbound traffic asked for, want none", c.report.Notice)
	}
	c.close(t)
}

// serveLine serves text and a newline to each TCP connection on addr and
// returns the address it listens on.
func serveLine(t *testing.T, addr, text string) string {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, text)
			c.Close()
		}
	}()
	return l.Addr().String()
}

// firstHostAddress is an IPv4 address of this host other than loopback,
// or "".
func firstHostAddress() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			if ip, ok := netip.AddrFromSlice(n.IP.To4()); ok {
				return ip.String()
			}
		}
	}
	return ""
}
