package safefile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestTOMLDepth(t *testing.T) {
	for _, c := range []struct {
		name string
		toml string
		want int
	}{
		{"empty", "", 0},
		{"key", "a = 1", 1},
		{"dotted key", "a.b.c = 1", 3},
		{"quoted dots are one key", `"a.b.c" = 1` + "\n'x.y' = 2", 1},
		{"header", "[a.b]\nc = 1", 3},
		{"array of tables", "[[a.b]]\nc = 1", 4},
		{"header resets", "[a.b.c.d]\n[x]\ny = 1", 4},
		{"array", "a = [1, [2, [3]]]", 4},
		{"inline table", "a = {b = {c.d = 1}}", 4},
		{"array of inline tables", "a = [{b = 1}, {c = [2]}]", 4},
		{"multi-line array with comments", "a = [ # [[[[\n  1, # {{{{\n  [2],\n]\nb = 1", 3},
		{"brackets in strings", `a = "[[[{{{\"[[[" ` + "\nb = '[[[{{{'\nc = \"\"\"\n[[[\n\"\"\"\nd = '''[[[''''\ne = 1", 1},
		{"dots in values", "a = 1.5\nb = 1979-05-27T07:32:00.999Z\nc = [1.0, 2.0]", 2},
		{"nook.toml", "image = \"x\"\n[roles.server]\nready = { port = 8080 }\nports = [\"8080:80\"]\n", 4},
		{"nook.lock", "version = 1\n[platforms.\"linux/amd64\".packages]\ncurl = \"7.88\"\n", 4},
		{"comment after header", "[[a]] # [[[\nb = 1", 3},
		{"escaped quote ends no string", `a = "x\"" ` + "\nb.c.d = 1", 3},
		{"unterminated string ends at its line", "a = \"[[[\nb.c = 1", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := tomlDepth([]byte(c.toml), 100)
			if err != nil || got != c.want {
				t.Errorf("tomlDepth(%q) = %d, %v; want %d", c.toml, got, err, c.want)
			}
			if err := CheckTOML([]byte(c.toml)); err != nil {
				t.Errorf("CheckTOML: %v", err)
			}
		})
	}
}

// hostileTOML are documents that take a TOML parser minutes or all memory.
var hostileTOML = map[string]struct {
	toml      string
	line, col int // where CheckTOML reports them
}{
	"50k nested inline tables":    {"a = " + strings.Repeat("{b = ", 50000) + "1" + strings.Repeat("}", 50000), 1, 4 + 5*31 + 1},
	"20k nested arrays":           {"image = \"x\"\na = " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000), 2, 5 + 31},
	"100k dotted key":             {strings.Repeat("a.", 100000) + "a = 1", 1, 2 * 32},
	"100k dotted header":          {"\n\n[" + strings.Repeat("a.", 100000) + "a]", 3, 1 + 2*32},
	"deep after a shallow header": {"[a.b.c]\nd = " + strings.Repeat("[", 40) + strings.Repeat("]", 40), 2, 5 + 28},
}

func TestCheckTOMLRefusesHostileNesting(t *testing.T) {
	for name, c := range hostileTOML {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := CheckTOML([]byte(c.toml))
			took := time.Since(start)
			var ne *NestingError
			if !errors.As(err, &ne) {
				t.Fatalf("CheckTOML: %v, want a *NestingError", err)
			}
			if ne.Line != c.line || ne.Col != c.col {
				t.Errorf("reported at %d:%d, want %d:%d", ne.Line, ne.Col, c.line, c.col)
			}
			if b := c.toml[lineOffset(c.toml, ne.Line)+ne.Col-1]; !strings.ContainsRune("[{.=", rune(b)) {
				t.Errorf("reported at %q, want a bracket, a dot or =", b)
			}
			if took > 50*time.Millisecond {
				t.Errorf("took %v", took)
			}
		})
	}
}

func TestCheckTOMLMemory(t *testing.T) {
	data := []byte("a = " + strings.Repeat("[", MaxInput-10))
	allocs := testing.AllocsPerRun(5, func() { CheckTOML(data) })
	if allocs > 10 {
		t.Errorf("CheckTOML of a megabyte of [ allocates %v times, want a bounded few", allocs)
	}
}

// lineOffset is the offset of line n (1-based) in s.
func lineOffset(s string, n int) int {
	off := 0
	for ; n > 1; n-- {
		off += strings.IndexByte(s[off:], '\n') + 1
	}
	return off
}

// FuzzCheckTOML checks the scanner against the TOML parser: whatever the
// parser accepts nests no deeper than the scanner counted, and what the
// scanner refuses, it refuses at a bracket, a dot or an =.
func FuzzCheckTOML(f *testing.F) {
	for _, s := range []string{
		"a = 1", "a.b.c = [1, {d = 2}]", "[x.y]\nz = [[1], [2]]", "[[t]]\na = {b.c = 'x'}",
		"a = \"\"\"\n[[\n\"\"\"\nb = '''x''''", "a = [ # c\n 1,\n]", `"q.q" = {'r.r' = "\"["}`,
		"a = [[[[[[[[[[1]]]]]]]]]]", "a." + strings.Repeat("b.", 40) + "c = 1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		depth, err := tomlDepth(data, 8)
		var ne *NestingError
		if err != nil {
			if !errors.As(err, &ne) {
				t.Fatalf("error %v is not a *NestingError", err)
			}
			off := lineOffset(string(data), ne.Line) + ne.Col - 1
			if off < 0 || off >= len(data) || !strings.ContainsRune("[{.=", rune(data[off])) {
				t.Fatalf("reported at %d:%d (offset %d), not at a bracket, a dot or =", ne.Line, ne.Col, off)
			}
			return
		}
		var doc map[string]any
		if _, err := toml.Decode(string(data), &doc); err != nil {
			return
		}
		if got := valueDepth(reflect.ValueOf(doc)); got > depth {
			t.Fatalf("the parser nests %d deep, the scanner counted %d", got, depth)
		}
	})
}

// valueDepth is the length of the longest key path in a decoded value.
func valueDepth(v reflect.Value) int {
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	d := 0
	switch v.Kind() {
	case reflect.Map:
		for _, k := range v.MapKeys() {
			d = max(d, 1+valueDepth(v.MapIndex(k)))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			d = max(d, 1+valueDepth(v.Index(i)))
		}
	}
	return d
}
