package rootless

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	bin, noexec, sub := filepath.Join(dir, "bin"), filepath.Join(dir, "noexec"), filepath.Join(dir, "sub")
	for _, d := range []string{bin, noexec, filepath.Join(sub, "tool")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string, mode os.FileMode) {
		if err := os.WriteFile(path, nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin, "tool"), 0o755)
	write(filepath.Join(noexec, "tool"), 0o644)
	path := "PATH=" + strings.Join([]string{noexec, sub, bin}, ":")

	// A file without execute bits and a directory are skipped, as a
	// shell skips them.
	if got, err := lookPath("tool", []string{path}); err != nil || got != filepath.Join(bin, "tool") {
		t.Errorf("lookPath(tool) = %q, %v; want %s", got, err, filepath.Join(bin, "tool"))
	}
	if got, err := lookPath("./tool", []string{path}); err != nil || got != "./tool" {
		t.Errorf("lookPath(./tool) = %q, %v; want it unchanged", got, err)
	}
	// The last PATH wins, as in execve's environment.
	if got, err := lookPath("tool", []string{"PATH=" + bin, "PATH=" + noexec}); err == nil {
		t.Errorf("lookPath with the last PATH %s = %q, want not found", noexec, got)
	}
	_, err := lookPath("nook-missing", []string{path})
	var se *StartError
	if !errors.As(err, &se) || se.ExitCode() != 127 || !strings.Contains(se.Error(), "nook-missing") ||
		!strings.Contains(se.Hint(), bin) {
		t.Errorf("lookPath(nook-missing): %v (hint %q); want exit code 127 naming it, with PATH in the hint", err, se.Hint())
	}
}
