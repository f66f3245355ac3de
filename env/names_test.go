package env

import (
	"regexp"
	"testing"
)

// The hand-written checks accept exactly what the regular expressions they
// replace accepted.
func TestNames(t *testing.T) {
	roleName := regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	userName := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$`)
	volumeName := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	for _, s := range []string{
		"", "web", "Web", "web-1", "web_1", "-web", "_web", ".web", "9", "a.b", "a b", "a:b", "a:", ":b", "a:b:c",
		"postgres", "1000:1000", "www-data:www-data", "_apt", "a.:b", "é", "web\n", "a/b", "root:0", "x-",
	} {
		if got, want := isRoleName(s), roleName.MatchString(s); got != want {
			t.Errorf("isRoleName(%q) = %v, want %v", s, got, want)
		}
		if got, want := isUserName(s), userName.MatchString(s); got != want {
			t.Errorf("isUserName(%q) = %v, want %v", s, got, want)
		}
		if got, want := isVolumeName(s), volumeName.MatchString(s); got != want {
			t.Errorf("isVolumeName(%q) = %v, want %v", s, got, want)
		}
	}
}
