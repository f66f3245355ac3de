package rootless

import (
	"context"
	"testing"
)

// BenchmarkRunTrue is the start-up path of a role: namespaces, nook-init,
// the mount plan, `true`, reaping. "host" runs on the host's root with no
// mounts; "busybox" on an overlay root with /proc, /dev, /tmp and the
// /etc files, as `nook run` does. Compare with
// `hyperfine -N 'bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev true'`.
func BenchmarkRunTrue(b *testing.B) {
	for _, w := range []*world{hostWorld(b), busyboxWorld(b)} {
		for _, newNet := range []bool{false, true} {
			name := w.name
			if newNet {
				name += "/newnet"
			}
			b.Run(name, func(b *testing.B) {
				spec := &Spec{Plan: w.plan(b), NewNet: newNet, Hostname: "bench",
					Process: Process{Args: []string{"true"}, Env: []string{"PATH=" + w.path}, Cwd: "/"}}
				for b.Loop() {
					if code, err := Run(context.Background(), spec, Stdio{}); err != nil || code != 0 {
						b.Fatalf("Run: %d, %v", code, err)
					}
				}
			})
		}
	}
}
