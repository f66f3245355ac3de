package rootless

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// wantPortError checks that err is a *PortError whose message holds every
// one of want.
func wantPortError(t *testing.T, err error, want ...string) *PortError {
	t.Helper()
	var pe *PortError
	if !errors.As(err, &pe) {
		t.Fatalf("CheckPorts = %v, want a *PortError", err)
	}
	for _, w := range want {
		if !strings.Contains(pe.Error(), w) {
			t.Errorf("error %q does not name %q", pe.Error(), w)
		}
	}
	if pe.Hint() == "" {
		t.Errorf("error %q has no hint", pe.Error())
	}
	if pe.ExitCode() != 125 {
		t.Errorf("ExitCode() = %d, want 125", pe.ExitCode())
	}
	return pe
}

func TestCheckPortsFree(t *testing.T) {
	ports := []Port{
		{HostPort: freePort(t, "tcp"), RolePort: 80, Proto: "tcp"},
		{HostIP: "127.0.0.1", HostPort: freePort(t, "udp"), RolePort: 53, Proto: "udp"},
	}
	if err := CheckPorts(ports, t.TempDir()); err != nil {
		t.Fatalf("CheckPorts(%v) on free ports: %v", ports, err)
	}
}

func TestCheckPortsTakenTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	// Hand the listening socket to another process and let go of it, so
	// that only that process holds it.
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("/bin/busybox", "sleep", "600")
	holder.ExtraFiles = []*os.File{f}
	if err := holder.Start(); err != nil {
		t.Skipf("starting a holder process: %v", err)
	}
	defer func() {
		holder.Process.Kill()
		holder.Wait()
	}()
	f.Close()
	l.Close()
	// "" is every address, which overlaps the holder's 127.0.0.1.
	err = CheckPorts([]Port{{HostPort: port, RolePort: 80, Proto: "tcp"}}, t.TempDir())
	pe := wantPortError(t, err, fmt.Sprintf("host port %d/tcp is taken by pid %d (/bin/busybox sleep 600)", port, holder.Process.Pid))
	if !strings.Contains(pe.Hint(), fmt.Sprintf("%d:80", port+1)) {
		t.Errorf("hint %q does not suggest another host port", pe.Hint())
	}
}

func TestCheckPortsTakenByNetwork(t *testing.T) {
	// A real forwarder, in a user namespace of its own, holds the port.
	p := Port{HostPort: freePort(t, "tcp"), RolePort: 8080, Proto: "tcp"}
	c := startNetChild(t, netRequest{Ports: []Port{p}})
	defer c.close(t)
	if c.report.AddErr != "" {
		t.Fatalf("AddPorts: %s", c.report.AddErr)
	}
	pid := c.cmd.Process.Pid
	wantPortError(t, CheckPorts([]Port{p}, t.TempDir()), fmt.Sprintf("host port %d/tcp is taken by pid %d (", p.HostPort, pid))

	start, ok := processStartTime(pid)
	if !ok {
		t.Fatalf("cannot read the start time of pid %d", pid)
	}
	runDir := t.TempDir()
	writePodJSON(t, runDir, "feedface", map[string]any{
		"pid": pid, "start": start, "project": "feedface", "name": "shop",
		"roles": []map[string]any{{"role": "web", "pid": 1, "ports": []Port{p}}},
	})
	wantPortError(t, CheckPorts([]Port{p}, runDir),
		fmt.Sprintf("host port %d/tcp is taken by nook project shop (role web, pod pid %d)", p.HostPort, pid))
}

func TestCheckPortsTakenUDP(t *testing.T) {
	c, err := net.ListenPacket("udp", "[::]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.LocalAddr().(*net.UDPAddr).Port
	err = CheckPorts([]Port{{HostIP: "127.0.0.1", HostPort: port, RolePort: 53, Proto: "udp"}}, t.TempDir())
	wantPortError(t, err, fmt.Sprintf("host port 127.0.0.1:%d/udp is taken by pid %d", port, os.Getpid()))
}

func TestCheckPortsOtherProtoIsFree(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Skipf("udp port %d is taken too: %v", port, err)
	}
	c.Close()
	if err := CheckPorts([]Port{{HostPort: port, RolePort: 53, Proto: "udp"}}, t.TempDir()); err != nil {
		t.Errorf("udp port %d with only tcp %d taken: %v", port, port, err)
	}
}

func TestCheckPortsTakenByNookPod(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	start, ok := processStartTime(os.Getpid())
	if !ok {
		t.Fatal("cannot read this process's start time")
	}
	runDir := t.TempDir()
	// This process stands in for the project's nook-pod, which holds the
	// forwarder's listeners.
	writePodJSON(t, runDir, "0123abcd", map[string]any{
		"pid": os.Getpid(), "start": start, "project": "0123abcd", "name": "shop",
		"roles": []map[string]any{
			{"role": "db", "pid": 1, "ports": []Port{{HostPort: port + 1, RolePort: 5432, Proto: "tcp"}}},
			{"role": "web", "pid": 1, "ports": []Port{{HostPort: port, RolePort: 80, Proto: "tcp"}}},
		},
	})
	err = CheckPorts([]Port{{HostPort: port, RolePort: 8080, Proto: "tcp"}}, runDir)
	pe := wantPortError(t, err, fmt.Sprintf("host port %d/tcp is taken by nook project shop (role web, pod pid %d)", port, os.Getpid()))
	if !strings.Contains(pe.Hint(), "`nook stop web` in that project") {
		t.Errorf("hint %q does not suggest nook stop web", pe.Hint())
	}
	// With the project's run state, the hint names its directory.
	sup := filepath.Join(runDir, "projects", "0123abcd", "supervisor.json")
	if err := os.MkdirAll(filepath.Dir(sup), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sup, []byte(`{"owner":{"pid":1},"project":"shop","projectDir":"/home/u/shop"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	pe = wantPortError(t, CheckPorts([]Port{{HostPort: port, RolePort: 8080, Proto: "tcp"}}, runDir), "nook project shop")
	if !strings.Contains(pe.Hint(), "`nook -C /home/u/shop stop web`") {
		t.Errorf("hint %q does not give `nook -C /home/u/shop stop web`", pe.Hint())
	}

	// A pod.json whose start time is not this process's is a stale one
	// whose pid was reused: the holder is then just a process.
	writePodJSON(t, runDir, "0123abcd", map[string]any{
		"pid": os.Getpid(), "start": start + 1, "project": "0123abcd", "name": "shop",
	})
	err = CheckPorts([]Port{{HostPort: port, RolePort: 8080, Proto: "tcp"}}, runDir)
	wantPortError(t, err, fmt.Sprintf("is taken by pid %d (", os.Getpid()))
}

func writePodJSON(t *testing.T, runDir, id string, v any) {
	t.Helper()
	dir := filepath.Join(runDir, "pods", id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pod.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheckPortsPrivileged(t *testing.T) {
	start := unprivilegedPortStart()
	if start <= 1 {
		t.Skipf("net.ipv4.ip_unprivileged_port_start is %d: every port is unprivileged here", start)
	}
	p := Port{HostPort: start - 1, RolePort: 80, Proto: "tcp"}
	pe := wantPortError(t, CheckPorts([]Port{p}, t.TempDir()),
		fmt.Sprintf("host port %d/tcp", p.HostPort), "net.ipv4.ip_unprivileged_port_start", strconv.Itoa(start))
	if !strings.Contains(pe.Hint(), fmt.Sprintf("sysctl net.ipv4.ip_unprivileged_port_start=%d", p.HostPort)) {
		t.Errorf("hint %q does not give the sysctl to allow port %d", pe.Hint(), p.HostPort)
	}
}

func TestCheckPortsClaimedTwice(t *testing.T) {
	port := freePort(t, "tcp")
	err := CheckPorts([]Port{
		{HostPort: port, RolePort: 80, Proto: "tcp", Role: "web"},
		{HostIP: "127.0.0.1", HostPort: port, RolePort: 8080, Proto: "tcp", Role: "api"},
	}, t.TempDir())
	wantPortError(t, err, fmt.Sprintf("host port 127.0.0.1:%d/tcp is claimed twice", port), "role web", "role api")

	// The same number on two protocols, or on two distinct addresses, is no clash.
	if err := CheckPorts([]Port{
		{HostIP: "127.0.0.1", HostPort: port, RolePort: 80, Proto: "tcp", Role: "web"},
		{HostIP: "127.0.0.1", HostPort: port, RolePort: 80, Proto: "udp", Role: "web"},
	}, t.TempDir()); err != nil {
		t.Errorf("tcp and udp on one port: %v", err)
	}
}

func TestCheckPortsAddressNotOnHost(t *testing.T) {
	p := Port{HostIP: "203.0.113.7", HostPort: freePort(t, "tcp"), RolePort: 80, Proto: "tcp"}
	wantPortError(t, CheckPorts([]Port{p}, t.TempDir()), "203.0.113.7", "not an address of this host")
}

func TestParseProcNetAddr(t *testing.T) {
	for _, tc := range []struct {
		in, ip string
		port   int
	}{
		{"0100007F:1F90", "127.0.0.1", 8080},
		{"00000000:0035", "0.0.0.0", 53},
		{"00000000000000000000000001000000:01BB", "::1", 443},
		{"0000000000000000FFFF00000100007F:0050", "127.0.0.1", 80},
	} {
		ip, port, ok := parseProcNetAddr(tc.in)
		if !ok || ip.String() != tc.ip || port != tc.port {
			t.Errorf("parseProcNetAddr(%q) = %v, %d, %v; want %s, %d", tc.in, ip, port, ok, tc.ip, tc.port)
		}
	}
}

// The forwarder's log says what rootlesskit's "expected OOB space" means
// and passes every other line as it is.
func TestForwarderLogExplainsRefusal(t *testing.T) {
	var b strings.Builder
	l := forwarderLog{&b}
	l.Write([]byte("copyConnToChild: expected OOB space 24, got 0\n"))
	l.Write([]byte("accept: use of closed network connection\n"))
	want := "copyConnToChild: expected OOB space 24, got 0 (the role refused the connection: nothing listened on its port on the pod's loopback; it was reset)\n" +
		"accept: use of closed network connection\n"
	if b.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", b.String(), want)
	}
}
