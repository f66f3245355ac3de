package env

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// awkward is valid TOML that tries to mislead a position scanner: text that
// looks like headers and keys inside strings and comments, quoted and dotted
// keys, multi-line arrays and strings, nested inline tables.
const awkward = `# [fake] = "header in a comment"
title = """
[not.a.table]
x = 1 """
'quoted.key' = 1
"esc\u0041pe" = 'lit # not a comment'
a . b  .  "c d" = [ # comment inside an array
  "one", # a comment after an element
  # a comment between elements
  [ "nested", 2 ],
  { k = "v", deep = { x = 1 } },
]
[tbl."sub.dotted"]   # header comment
  inner = { p = '''multi
line''', q = [1,
  2] }
[[arr]]
n = 1
[[arr]]
n = 2
tail = "x"
`

func TestScanPositions(t *testing.T) {
	if _, err := toml.Decode(awkward, new(map[string]any)); err != nil {
		t.Fatalf("the test input is not valid TOML: %v", err)
	}
	p := scanPositions(awkward)
	keys := []struct {
		key  []string
		want position
	}{
		{[]string{"title"}, position{2, 1}},
		{[]string{"quoted.key"}, position{5, 1}},
		{[]string{"escApe"}, position{6, 1}},
		{[]string{"a"}, position{7, 1}},
		{[]string{"a", "b", "c d"}, position{7, 1}},
		{[]string{"tbl"}, position{13, 2}},
		{[]string{"tbl", "sub.dotted"}, position{13, 2}},
		{[]string{"tbl", "sub.dotted", "inner"}, position{14, 3}},
		{[]string{"tbl", "sub.dotted", "inner", "p"}, position{14, 13}},
		{[]string{"tbl", "sub.dotted", "inner", "q"}, position{15, 10}},
		{[]string{"arr"}, position{17, 3}},
		{[]string{"arr", elemSeg(1), "tail"}, position{21, 1}},
		// Missing keys fall back to their nearest parent, then to 1:1.
		{[]string{"tbl", "sub.dotted", "nothing"}, position{13, 2}},
		{[]string{"nothing"}, position{1, 1}},
	}
	for _, k := range keys {
		if got := p.key(k.key); got != k.want {
			t.Errorf("key %q at %v, want %v", k.key, got, k.want)
		}
	}
	abc := []string{"a", "b", "c d"}
	elems := []struct {
		i    int
		want position
	}{
		{0, position{8, 3}},
		{1, position{10, 3}},
		{2, position{11, 3}},
	}
	for _, e := range elems {
		if got := p.elem(abc, e.i); got != e.want {
			t.Errorf("element %d at %v, want %v", e.i, got, e.want)
		}
	}
	inArray := map[string]position{
		pathID([]string{"a", "b", "c d", elemSeg(1), elemSeg(1)}):       {10, 15},
		pathID([]string{"a", "b", "c d", elemSeg(2), "deep", "x"}):      {11, 23},
		pathID([]string{"tbl", "sub.dotted", "inner", "q", elemSeg(1)}): {16, 3},
		pathID([]string{"arr", elemSeg(1), "n"}):                        {20, 1},
		pathID([]string{"arr", elemSeg(0), "n"}):                        {18, 1},
	}
	for id, want := range inArray {
		got, ok := p.keys[id]
		if !ok {
			got, ok = p.elems[id]
		}
		if !ok || got != want {
			t.Errorf("%q at %v (found %v), want %v", strings.ReplaceAll(id, "\x00", "."), got, ok, want)
		}
	}
}

// An element on the key's own line is reported at the key, as a one-line
// array reads as one value.
func TestElemOnKeyLine(t *testing.T) {
	p := scanPositions("ports = [\"1\", \"2\",\n  \"3\"]\n")
	key := []string{"ports"}
	for i, want := range []position{{1, 1}, {1, 1}, {2, 3}} {
		if got := p.elem(key, i); got != want {
			t.Errorf("element %d at %v, want %v", i, got, want)
		}
	}
}

// The scanner sees only text the parser accepted, but it must never hang or
// panic on anything.
func TestScanPositionsTerminates(t *testing.T) {
	for _, src := range []string{"", "[", "[[", "a = [", "a = {", `a = "`, `a = """`, "a = '''", "= = =", "\x00\x01]", "[a.\n", `"\`, "a = [1, {b = [\"", "\"a\\u12\" = 1", "a.b.=", "}}]]"} {
		scanPositions(src)
	}
}

// Windows line ends and a byte order mark do not shift positions.
func TestScanPositionsCRLFAndBOM(t *testing.T) {
	src := "\uFEFFimage = \"x\"\r\n[roles.a]\r\nports = [\r\n  \"1\",\r\n  \"2\" ]\r\n"
	if _, err := toml.Decode(src, new(map[string]any)); err != nil {
		t.Fatalf("the test input is not valid TOML: %v", err)
	}
	p := scanPositions(src)
	if got := p.key([]string{"image"}); got != (position{1, 1}) {
		t.Errorf("image at %v, want 1:1", got)
	}
	ports := []string{"roles", "a", "ports"}
	if got := p.key(ports); got != (position{3, 1}) {
		t.Errorf("ports at %v, want 3:1", got)
	}
	if got := p.elem(ports, 1); got != (position{5, 3}) {
		t.Errorf("ports[1] at %v, want 5:3", got)
	}
}
