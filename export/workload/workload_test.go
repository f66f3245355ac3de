package workload

import (
	"regexp"
	"strings"
	"testing"
)

// DNSLabel gives what the regular expression it replaces gave (runs of
// anything but [a-z0-9] become one '-'), without compiling one at every
// start of nook.
func TestDNSLabel(t *testing.T) {
	notDNS := regexp.MustCompile(`[^a-z0-9]+`)
	byRegexp := func(s string) string {
		s = strings.Trim(notDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
		if len(s) > 63 {
			s = strings.TrimRight(s[:63], "-")
		}
		if s == "" {
			return "nook"
		}
		return s
	}
	for _, s := range []string{
		"web", "Shop", "my_project", "--a--b--", "Test_Server", "ÉtéÀ-la-plage", "日本", "",
		"a.b.c", "x" + strings.Repeat("-y", 40), strings.Repeat("a", 62) + "-b", strings.Repeat("ab", 40),
	} {
		if got, want := DNSLabel(s), byRegexp(s); got != want {
			t.Errorf("DNSLabel(%q) = %q, want %q", s, got, want)
		}
	}
}
