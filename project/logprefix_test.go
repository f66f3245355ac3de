package project

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

func TestLogMuxPrefixesLinesAndKeepsThemRaw(t *testing.T) {
	var term bytes.Buffer
	m := newLogMux(&term, false, []string{"db", "server"})
	dir := t.TempDir()
	logf, err := os.Create(dir + "/db.log")
	if err != nil {
		t.Fatal(err)
	}
	w, done, err := m.pipe("db", logf)
	if err != nil {
		t.Fatal(err)
	}
	// A line in two writes, a long line past the buffer, and a last line
	// without its newline.
	long := strings.Repeat("x", 100<<10)
	for _, s := range []string{"ready ", "to serve\n", long + "\n", "bye"} {
		if _, err := w.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	<-done
	logf.Close()
	want := "db     | ready to serve\ndb     | " + long + "\ndb     | bye\n"
	if got := term.String(); got != want {
		t.Errorf("terminal got %q…, want %q…", clip(got), clip(want))
	}
	raw, _ := os.ReadFile(dir + "/db.log")
	if want := "ready to serve\n" + long + "\nbye"; string(raw) != want {
		t.Errorf("log got %q…, want %q…", clip(string(raw)), clip(want))
	}
}

func TestLogMuxColoursEachRole(t *testing.T) {
	var term bytes.Buffer
	m := newLogMux(&term, true, []string{"a", "b"})
	for _, role := range []string{"a", "b"} {
		w, done, err := m.pipe(role, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		w.WriteString("hi\n")
		w.Close()
		<-done // one role at a time: the order of lines is known
	}
	want := "\x1b[36ma | \x1b[0mhi\n\x1b[33mb | \x1b[0mhi\n"
	if term.String() != want {
		t.Errorf("got %q, want %q", term.String(), want)
	}
}

func clip(s string) string { return s[:min(len(s), 60)] }
