#!/usr/bin/env bash
# File change → watched role re-run: time from a file write to the role's
# first instruction, p50 and p95 over N edits, for `nook watch` at its
# default debounce (100 ms) and at zero debounce, side by side with entr.
# Run as an ordinary user from the repository root:  bash bench/watch.sh [N]
# Needs: entr and python3 (Debian packages). The role's base is the host, so
# no image is needed; its first instruction is `date +%s%N`.
set -euo pipefail
edits=${1:-50}
work=$(mktemp -d /tmp/nook-watch-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$work/" ./cmd/... # nook and nook-init, side by side
export NOOK_HOME=$work/store

# measure NAME HITS: edit $work/p/src/f.txt N times, one at a time, and report
# the latency from each write to the next timestamp line in HITS.
measure() {
	python3 - "$1" "$2" "$work/p/src/f.txt" "$edits" <<'PY'
import os, statistics, sys, time
name, hits, target, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def lines():
    try:
        with open(hits) as f:
            return f.read().split()
    except FileNotFoundError:
        return []
def wait_for(count, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        got = lines()
        if len(got) >= count:
            return got
        time.sleep(0.001)
    sys.exit(f"{name}: no run after an edit")
wait_for(1)                      # the initial run
time.sleep(0.5)                  # let the tool settle after starting
lat = []
for i in range(n):
    seen = len(lines())
    t0 = time.time_ns()
    with open(target, "w") as f:
        f.write(f"edit {i}\n")
    got = wait_for(seen + 1)
    lat.append((int(got[seen]) - t0) / 1e6)
    time.sleep(0.25)             # a quiet gap, so each edit is its own burst
    if len(lines()) != seen + 1:
        sys.exit(f"{name}: edit {i} ran the role {len(lines()) - seen} times, want once")
lat.sort()
p95 = lat[min(len(lat) - 1, int(round(0.95 * len(lat))) - 1)]
print(f"{name:28s} p50 {statistics.median(lat):7.1f} ms   p95 {p95:7.1f} ms   ({n} edits, each ran the role once)")
PY
}

project() { # project NAME: a fresh project whose role appends a timestamp to hits
	rm -rf "$work/p"; mkdir -p "$work/p/src"; echo start >"$work/p/src/f.txt"
	cat >"$work/p/nook.toml" <<TOML
image = "host"
[roles.w]
command = "date +%s%N >> /work/hits"
watch = ["src/**"]
network = "host"
TOML
}

for debounce in 100ms 0s; do
	project
	"$work/nook" -C "$work/p" watch --debounce "$debounce" 2>"$work/watch.log" &
	pids+=($!)
	measure "nook watch (debounce $debounce)" "$work/p/hits"
	kill -INT "${pids[-1]}"; wait "${pids[-1]}" || true
done

project
(cd "$work/p" && echo src/f.txt | entr -n sh -c 'date +%s%N >> hits') 2>/dev/null &
pids+=($!)
measure "entr" "$work/p/hits"
