package rootless

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestRunOutbound(t *testing.T) {
	if why := OutboundUnavailable(); why != "" {
		t.Skip(why)
	}
	addr := hostAddress(t)
	token := fmt.Sprintf("reached %d", time.Now().UnixNano())
	outside := serveLine(t, net.JoinHostPort(addr, "0"), token)
	loopback := serveLine(t, "127.0.0.1:0", "the host's loopback")
	_, loopPort, _ := net.SplitHostPort(loopback)
	dial := func(a string) string {
		h, p, _ := net.SplitHostPort(a)
		return fmt.Sprintf("echo %s: $(busybox nc %s %s </dev/null 2>/dev/null || echo failed)\n", a, h, p)
	}
	script := "busybox ip -4 addr show tap0 | busybox grep -o 'inet [0-9./]*'\n" +
		dial(outside) + dial(net.JoinHostPort("10.0.2.2", loopPort)) + dial(loopback)
	w := hostWorld(t)
	spec := w.spec(t, script)
	spec.NewNet, spec.Outbound = true, true
	code, out := mustRun(t, spec)
	if code != 0 {
		t.Fatalf("status %d, output:\n%s", code, out)
	}
	for _, want := range []string{
		"inet 10.0.2.100/24",                // slirp4netns configured the namespace before the command started
		outside + ": " + token,              // the host, through slirp4netns
		"10.0.2.2:" + loopPort + ": failed", // the gateway does not lead to the host's loopback
		loopback + ": failed",               // the namespace's own loopback, where nothing listens
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestOutboundResolvConf(t *testing.T) {
	if got := string(OutboundResolvConf()); got != "nameserver 10.0.2.3\n" {
		t.Errorf("OutboundResolvConf = %q", got)
	}
}
