package rootless

import "testing"

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &tailBuffer{max: 8}
	for _, s := range []string{"slirp", "4netns: ", "tap0 failed\n", "bye"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got, want := b.String(), "iled\nbye"; got != want {
		t.Errorf("kept %q, want the last 8 bytes %q", got, want)
	}
}
