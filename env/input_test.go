package env

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Hostile project files fail with file:line:col, in milliseconds and
// bounded memory: before the check, 50,000 nested inline tables ran the
// TOML parser out of memory and 20,000 nested arrays took it 20 seconds.
func TestLoadRefusesHostileNesting(t *testing.T) {
	for _, c := range []struct {
		name, rest string
		line, col  int
	}{
		{"inline tables", "a = " + strings.Repeat("{b = ", 50000) + "1" + strings.Repeat("}", 50000), 2, 160},
		{"arrays", "a = " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000), 2, 36},
		{"dotted key", strings.Repeat("a.", 100000) + "a = 1", 2, 64},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nook.toml")
			if err := os.WriteFile(path, []byte("image = \"host\"\n"+c.rest+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Load(path)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			var e *Error
			if !errors.As(err, &e) || e.Line != c.line || e.Col != c.col || !strings.Contains(e.Msg, "nested more than 32") {
				t.Fatalf("Load = %v, want an *Error at %d:%d about nesting", err, c.line, c.col)
			}
			if took > time.Second {
				t.Errorf("took %v", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("allocated %d bytes for a file of %d", alloc, len(c.rest))
			}
		})
	}
}
