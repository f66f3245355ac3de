package env

import (
	"math"
	"strconv"
	"strings"
)

// memoryUnits are the suffixes a memory limit may carry. Like Docker, nook
// reads every one of them as a power of 1024.
var memoryUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
}

// parseMemory reads a memory size such as "512MiB", "2g" or "1.5GiB" as a
// number of bytes.
func parseMemory(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	number, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := memoryUnits[unit]
	n, err := strconv.ParseFloat(number, 64)
	if !ok || err != nil || number == "" {
		return 0, badSpec(`e.g. memory = "2GiB"`, "%q is not a memory size; expected a number with B, K, KB, KiB, M, MB, MiB, G, GB or GiB", s)
	}
	bytes := n * mult
	if bytes < 1 || bytes >= math.MaxInt64 {
		return 0, badSpec("", "%q is out of range; expected at least 1 byte", s)
	}
	return int64(bytes), nil
}
