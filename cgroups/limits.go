package cgroups

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits are a role's resource limits; a zero field is no limit.
type Limits struct {
	Memory int64   // bytes: memory.max, and as much swap again (memory.swap.max), as Docker does
	CPUs   float64 // cores: cpu.max, a quota per 100 ms period
	Pids   int     // processes and threads: pids.max
}

// IsZero reports whether l limits nothing.
func (l Limits) IsZero() bool { return l == Limits{} }

// cpuPeriod is cpu.max's period in microseconds (the kernel's default).
const cpuPeriod = 100000

// Controllers are the cgroup v2 controllers l needs, in a stable order.
func (l Limits) Controllers() []string {
	var out []string
	if l.CPUs > 0 {
		out = append(out, "cpu")
	}
	if l.Memory > 0 {
		out = append(out, "memory")
	}
	if l.Pids > 0 {
		out = append(out, "pids")
	}
	return out
}

// Without is l with the limits of the named controllers dropped.
func (l Limits) Without(controllers []string) Limits {
	for _, c := range controllers {
		switch c {
		case "cpu":
			l.CPUs = 0
		case "memory":
			l.Memory = 0
		case "pids":
			l.Pids = 0
		}
	}
	return l
}

// setting is one interface file of a cgroup and the value to write.
type setting struct {
	file, value string
	optional    bool // the kernel may lack the file (memory.swap.max without swap accounting)
}

// settings are the files Create writes for l, in order.
func (l Limits) settings() []setting {
	var out []setting
	if l.CPUs > 0 {
		quota := max(int64(math.Round(l.CPUs*cpuPeriod)), 1000) // the kernel's minimum quota is 1 ms
		out = append(out, setting{file: "cpu.max", value: fmt.Sprintf("%d %d", quota, cpuPeriod)})
	}
	if l.Memory > 0 {
		v := strconv.FormatInt(l.Memory, 10)
		out = append(out, setting{file: "memory.max", value: v}, setting{file: "memory.swap.max", value: v, optional: true})
	}
	if l.Pids > 0 {
		out = append(out, setting{file: "pids.max", value: strconv.Itoa(l.Pids)})
	}
	return out
}

// String reads like nook.toml: memory = 2GiB, cpus = 1.5, pids = 1024.
func (l Limits) String() string {
	var parts []string
	if l.Memory > 0 {
		parts = append(parts, "memory = "+FormatBytes(l.Memory))
	}
	if l.CPUs > 0 {
		parts = append(parts, "cpus = "+strconv.FormatFloat(l.CPUs, 'f', -1, 64))
	}
	if l.Pids > 0 {
		parts = append(parts, "pids = "+strconv.Itoa(l.Pids))
	}
	return strings.Join(parts, ", ")
}

// FormatBytes writes n in the largest binary unit that keeps at least one
// whole unit, with at most one decimal: 2GiB, 1.5GiB, 512MiB, 100B.
func FormatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	return s + units[i]
}
