package cgroups

import (
	"slices"
	"testing"
)

func TestSettings(t *testing.T) {
	got := Limits{Memory: 2 << 30, CPUs: 1.5, Pids: 1024}.settings()
	want := []setting{
		{file: "cpu.max", value: "150000 100000"},
		{file: "memory.max", value: "2147483648"},
		{file: "memory.swap.max", value: "2147483648", optional: true},
		{file: "pids.max", value: "1024"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("settings = %v, want %v", got, want)
	}
	if s := (Limits{CPUs: 0.001}).settings(); s[0].value != "1000 100000" {
		t.Errorf("a tiny cpus limit gives %q: the kernel's minimum quota is 1000", s[0].value)
	}
	if s := (Limits{}).settings(); len(s) != 0 {
		t.Errorf("no limits write %v", s)
	}
}

func TestControllersAndWithout(t *testing.T) {
	l := Limits{Memory: 1, CPUs: 1, Pids: 1}
	if c := l.Controllers(); !slices.Equal(c, []string{"cpu", "memory", "pids"}) {
		t.Errorf("Controllers = %v", c)
	}
	if got := l.Without([]string{"cpu", "pids"}); got != (Limits{Memory: 1}) {
		t.Errorf("Without(cpu, pids) = %v", got)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		100:       "100B",
		2 << 30:   "2GiB",
		3 << 29:   "1.5GiB",
		512 << 20: "512MiB",
		100000000: "95.4MiB",
		1023:      "1023B",
		1 << 40:   "1TiB",
	} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestLimitsString(t *testing.T) {
	if got, want := (Limits{Memory: 2 << 30, CPUs: 1.5, Pids: 64}).String(), "memory = 2GiB, cpus = 1.5, pids = 64"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
