package rootless

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrial(t *testing.T) {
	dir := t.TempDir()
	if err := Trial(dir); err != nil {
		t.Fatalf("Trial: %v", err)
	}
	// The removal was the overlay's: the lower layer is untouched.
	if b, err := os.ReadFile(filepath.Join(dir, "lower", trialProbe)); err != nil || string(b) != "nook\n" {
		t.Errorf("the lower layer's probe after the trial: %q, %v", b, err)
	}
}

func TestTrialChecksFail(t *testing.T) {
	// Run here, the checks are not in a pid namespace of their own: they
	// say so.
	err := trialChecks([]string{t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not nook-init as pid 1") {
		t.Errorf("trialChecks outside a pid namespace: %v", err)
	}
}
