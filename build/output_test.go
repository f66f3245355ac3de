package build

import (
	"fmt"
	"strings"
	"testing"
)

func TestCopyLinesPrefixesEveryLine(t *testing.T) {
	var out strings.Builder
	tl := &tail{n: 2}
	in := "one\ntwo\r\nprogress 1%\rprogress 100%\nlast without newline"
	if err := copyLines(&out, "[2/4]", strings.NewReader(in), tl); err != nil {
		t.Fatal(err)
	}
	want := "[2/4] one\n[2/4] two\n[2/4] progress 1%\n[2/4] progress 100%\n[2/4] last without newline\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if got, want := tl.String(), "progress 100%\nlast without newline\n"; got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
}

func TestCopyLinesSplitsOverlongLines(t *testing.T) {
	var out strings.Builder
	long := strings.Repeat("x", maxLine+10)
	if err := copyLines(&out, "[1/1]", strings.NewReader(long+"\n"), &tail{n: 3}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || strings.Count(out.String(), "x") != len(long) {
		t.Errorf("got %d lines holding %d bytes, want 2 lines holding %d", len(lines), strings.Count(out.String(), "x"), len(long))
	}
}

func TestTailKeepsTheLastLines(t *testing.T) {
	tl := &tail{n: tailLines}
	for i := range 100 {
		tl.add(fmt.Sprint("line ", i))
	}
	got := strings.Split(strings.TrimSuffix(tl.String(), "\n"), "\n")
	if len(got) != tailLines || got[0] != fmt.Sprint("line ", 100-tailLines) || got[len(got)-1] != "line 99" {
		t.Errorf("tail = %q", got)
	}
}
