package main

import "testing"

func TestParseHostSide(t *testing.T) {
	for _, c := range []struct{ in, ip, port, proto string }{
		{"8080:80/tcp", "", "8080", "tcp"},
		{"127.0.0.1:5353:53/udp", "127.0.0.1", "5353", "udp"},
		{"[::1]:8443:443/tcp", "::1", "8443", "tcp"},
	} {
		ip, port, proto, ok := parseHostSide(c.in)
		if !ok || ip != c.ip || port != c.port || proto != c.proto {
			t.Errorf("parseHostSide(%q) = %q, %q, %q, %v", c.in, ip, port, proto, ok)
		}
	}
	if _, _, _, ok := parseHostSide("nonsense"); ok {
		t.Error("parseHostSide accepted nonsense")
	}
}
