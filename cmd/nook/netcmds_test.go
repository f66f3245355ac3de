package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookenv/nook/runstate"
)

// netWaitLimit bounds the waits of the network commands below: each
// retries an attempt that may not succeed yet (a server still starting, a
// process still ending) until it does, or fails after the limit.
const netWaitLimit = 30 * time.Second

// retryEvery is the pause between attempts on something outside the test
// process (another process's socket), where there is no event to wait on.
const retryEvery = 50 * time.Millisecond

func init() {
	// freeport VAR...: set each VAR to a port that is free for TCP and UDP
	// on every address.
	scriptCommands["freeport"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) == 0 {
			ts.Fatalf("usage: freeport VAR...")
		}
		taken := map[int]bool{}
		for _, v := range args {
			for {
				p := freePort(ts)
				if !taken[p] {
					taken[p] = true
					ts.Setenv(v, strconv.Itoa(p))
					break
				}
			}
		}
	}
	// httpget [-once] URL: GET URL and print the body; it retries while
	// the connection fails, up to a limit; with -once the first attempt
	// must succeed. ! httpget URL: a single attempt must fail.
	scriptCommands["httpget"] = func(ts *testscript.TestScript, neg bool, args []string) {
		once := len(args) == 2 && args[0] == "-once"
		if once {
			args = args[1:]
		}
		if len(args) != 1 {
			ts.Fatalf("usage: httpget [-once] URL")
		}
		client := &http.Client{Timeout: 5 * time.Second}
		deadline := time.Now().Add(netWaitLimit)
		for {
			body, err := httpGet(client, args[0])
			if once && err != nil {
				ts.Fatalf("GET %s (a single attempt): %v", args[0], err)
			}
			if neg {
				if err == nil {
					ts.Fatalf("GET %s succeeded: %q", args[0], body)
				}
				ts.Logf("GET %s: %v (as expected)", args[0], err)
				return
			}
			if err == nil {
				ts.Stdout().Write(body)
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("GET %s: %v", args[0], err)
			}
			time.Sleep(retryEvery)
		}
	}
	// udpsend HOST:PORT TEXT: send TEXT in a datagram and print the reply;
	// it sends again while no reply comes, up to a limit.
	scriptCommands["udpsend"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: udpsend HOST:PORT TEXT")
		}
		c, err := net.Dial("udp", args[0])
		ts.Check(err)
		defer c.Close()
		deadline := time.Now().Add(netWaitLimit)
		buf := make([]byte, 64<<10)
		for {
			if _, err := c.Write([]byte(args[1])); err != nil && !isConnRefused(err) {
				ts.Fatalf("sending to %s: %v", args[0], err)
			}
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			n, err := c.Read(buf)
			if err == nil {
				fmt.Fprintf(ts.Stdout(), "%s\n", buf[:n])
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("no reply from %s: %v", args[0], err)
			}
		}
	}
	// hostserver VAR: serve HTTP on the host's 127.0.0.1 (answering "host
	// says hi") until the script ends, and set VAR to its port.
	scriptCommands["hostserver"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: hostserver VAR")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "host says hi\n")
		})}
		go srv.Serve(l)
		ts.Defer(func() { srv.Close() })
		ts.Setenv(args[0], strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	// holdport PORT: keep TCP PORT on every address taken until the
	// script ends.
	scriptCommands["holdport"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: holdport PORT")
		}
		l, err := net.Listen("tcp", ":"+args[0])
		ts.Check(err)
		ts.Defer(func() { l.Close() })
	}
	// privport VAR: set VAR to a port below net.ipv4.ip_unprivileged_port_start.
	scriptCommands["privport"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: privport VAR")
		}
		data, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
		ts.Check(err)
		start, err := strconv.Atoi(strings.TrimSpace(string(data)))
		ts.Check(err)
		if start <= 1 {
			ts.Fatalf("net.ipv4.ip_unprivileged_port_start is %d: every port is unprivileged here", start)
		}
		ts.Setenv(args[0], strconv.Itoa(start-1))
	}
	// portfree PORT: wait until TCP PORT can be bound on every address.
	scriptCommands["portfree"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: portfree PORT")
		}
		deadline := time.Now().Add(netWaitLimit)
		for {
			l, err := net.Listen("tcp", ":"+args[0])
			if err == nil {
				l.Close()
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("port %s is still taken: %v", args[0], err)
			}
			time.Sleep(retryEvery)
		}
	}
	// noproc MARKER: wait until no process's command line holds MARKER.
	scriptCommands["noproc"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: noproc MARKER")
		}
		deadline := time.Now().Add(netWaitLimit)
		for {
			pids := processesWith(args[0])
			if len(pids) == 0 {
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("processes %v still run with %q in their command line", pids, args[0])
			}
			time.Sleep(retryEvery)
		}
	}
	// nothingruns: wait until no process recorded in the run-state
	// directory lives: no pod (pods/*/pod.json), no nook up
	// (projects/*/supervisor.json), no role (projects/*/roles/*.json), each
	// judged by pid and start time.
	scriptCommands["nothingruns"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: nothingruns")
		}
		run := filepath.Join(ts.Getenv("XDG_RUNTIME_DIR"), "nook")
		deadline := time.Now().Add(netWaitLimit)
		for {
			live := liveRecords(run)
			if len(live) == 0 {
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("still running: %v", live)
			}
			time.Sleep(retryEvery)
		}
	}
	// installself NAME DIR: copy the test binary to DIR/NAME, where it runs
	// as the program NAME of TestMain (for roles on the host image).
	scriptCommands["installself"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: installself NAME DIR")
		}
		self, err := os.Executable()
		ts.Check(err)
		data, err := os.ReadFile(self)
		ts.Check(err)
		ts.Check(os.WriteFile(filepath.Join(ts.MkAbs(args[1]), args[0]), data, 0o755))
	}
}

// isConnRefused reports whether err is ECONNREFUSED, which a connected UDP
// socket returns after an ICMP port unreachable: nothing listens yet.
func isConnRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

func freePort(ts *testscript.TestScript) int {
	for {
		// Below the kernel's ephemeral range (ip_local_port_range starts
		// at 32768): a port the kernel hands out for :0 can be taken again
		// at once by any outgoing connection of a test running beside this
		// one, as a client's source port.
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", fmt.Sprintf(":%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
}

func httpGet(c *http.Client, url string) ([]byte, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s: %q", resp.Status, body)
	}
	return body, nil
}

// udpEchoMain is the program "udpecho PORT" of TestMain: it answers each
// datagram on PORT with "echo: " and the datagram.
func udpEchoMain() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: udpecho PORT")
		os.Exit(2)
	}
	c, err := net.ListenPacket("udp", ":"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("udpecho listening on", c.LocalAddr())
	buf := make([]byte, 64<<10)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c.WriteTo(append([]byte("echo: "), buf[:n]...), from)
	}
}

// liveRecords lists the run-state records under run whose process lives,
// as "FILE: pid N".
func liveRecords(run string) []string {
	var files, live []string
	for _, pattern := range []string{"pods/*/pod.json", "projects/*/supervisor.json", "projects/*/roles/*.json"} {
		m, _ := filepath.Glob(filepath.Join(run, pattern))
		files = append(files, m...)
	}
	for _, f := range files {
		var rec struct {
			Pid   int            `json:"pid"`
			Start uint64         `json:"start"`
			Owner runstate.Owner `json:"owner"`
		}
		data, err := os.ReadFile(f)
		if err != nil || json.Unmarshal(data, &rec) != nil {
			continue // removed or being replaced
		}
		for _, o := range []runstate.Owner{{Pid: rec.Pid, Start: rec.Start}, rec.Owner} {
			if o.Alive() {
				live = append(live, fmt.Sprintf("%s: pid %d", f, o.Pid))
			}
		}
	}
	return live
}
