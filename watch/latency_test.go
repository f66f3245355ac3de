package watch

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkLatency measures the time from writing a file to receiving its
// Trigger, with no debounce and with DefaultDebounce (SPEC §9: change →
// restarted role p50 under 150 ms, debounce included). It reports the p50
// and p99 in milliseconds; `nook watch` adds the restart on top.
//
//	go test ./watch -run '^$' -bench Latency -benchtime 50x
func BenchmarkLatency(b *testing.B) {
	for _, debounce := range []time.Duration{0, DefaultDebounce} {
		b.Run(fmt.Sprintf("debounce=%v", debounce), func(b *testing.B) {
			dir := b.TempDir()
			w := start(b, dir, Options{Rules: []Rule{goRule}, Debounce: debounce}, nil)
			got := forward(w)
			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				// A new name each time: a write gives several events, and
				// with no debounce the later ones may make a Trigger of their own.
				name := fmt.Sprintf("f%d.go", i)
				t0 := time.Now()
				writeFile(b, dir, name, "package x\n")
				untilSentinel(b, got, name)
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			ms := func(q float64) float64 {
				return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
		})
	}
}
