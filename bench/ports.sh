#!/usr/bin/env bash
# TCP throughput through a published port: iperf3 from the host to a server
# inside nook's pod (rootlesskit's builtin port driver used as a library in
# nook-pod), side by side with rootlesskit's own builtin port driver
# (`rootlesskit --net=none --port-driver=builtin -p …`), and the host's
# loopback with no forwarder as the ceiling. Both directions (host → role,
# and -R role → host), RUNS runs of SECONDS each, interleaved, medians; then
# the resident memory of each side's own processes while serving.
# Run as an ordinary user from the repository root:
#   bash bench/ports.sh [RUNS] [SECONDS]
# Needs: iperf3 (Debian package). NOOK=path and ROOTLESSKIT=path use
# prebuilt binaries; otherwise nook is built here and rootlesskit v2.3.6 is
# installed with `go install` into the scratch directory.
set -euo pipefail
runs=${1:-5}
secs=${2:-5}
work=$(mktemp -d /tmp/nook-ports-bench.XXXXXX)
pids=()
cleanup() {
	[ -n "${nook_up:-}" ] && "$nook" -C "$work/project" stop >/dev/null 2>&1 || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT

nook=${NOOK:-}
if [ -z "$nook" ]; then
	CGO_ENABLED=0 go build -o "$work/" ./cmd/... # nook and nook-init, side by side
	nook=$work/nook
fi
rootlesskit=${ROOTLESSKIT:-}
if [ -z "$rootlesskit" ]; then
	GOBIN=$work/bin go install github.com/rootless-containers/rootlesskit/v2/cmd/rootlesskit@v2.3.6
	rootlesskit=$work/bin/rootlesskit
fi
export NOOK_HOME=$work/store

# free_port: a TCP port nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_iperf PORT: until an iperf3 server answers through PORT (a forwarder
# accepts before the server inside listens; a failed test run says so).
wait_iperf() {
	for _ in $(seq 150); do
		iperf3 -c 127.0.0.1 -p "$1" -n 64K >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "no iperf3 server answers on 127.0.0.1:$1" >&2
	return 1
}

# rss PID…: the summed VmRSS of the processes, in MiB.
rss() {
	local kb=0 p
	for p in "$@"; do kb=$((kb + $(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
	awk -v kb="$kb" 'BEGIN{printf "%.1f", kb/1024}'
}

# children PID: the pids of PID's children.
children() { cat /proc/"$1"/task/*/children 2>/dev/null || true; }

declare -A port
names=()

# The ceiling: the host's loopback, no forwarder.
port[loopback]=$(free_port)
iperf3 -s -B 127.0.0.1 -p "${port[loopback]}" >/dev/null 2>&1 &
pids+=($!)
names+=(loopback)

# rootlesskit's own builtin port driver: its parent listens on the host, its
# child (in the new user and network namespaces) dials 127.0.0.1:5201.
port[rootlesskit]=$(free_port)
"$rootlesskit" --state-dir="$work/rk" --net=none --port-driver=builtin \
	-p "127.0.0.1:${port[rootlesskit]}:5201/tcp" iperf3 -s -p 5201 >"$work/rootlesskit.log" 2>&1 &
rk_pid=$!
pids+=($rk_pid)
names+=(rootlesskit)

# nook: a role serving iperf3 on 5201 in the pod, published on the host.
port[nook]=$(free_port)
mkdir "$work/project"
cat >"$work/project/nook.toml" <<TOML
image = "host"
[roles.iperf]
command = ["iperf3", "-s", "-p", "5201"]
ports   = ["127.0.0.1:${port[nook]}:5201"]
TOML
if "$nook" up --help >/dev/null 2>&1; then
	"$nook" -C "$work/project" up -d iperf
	nook_up=1
	names+=(nook)
else
	echo "nook: skipped, this nook has no \`nook up\` yet" >&2
fi

for n in "${names[@]}"; do wait_iperf "${port[$n]}"; done

# One line per run: NAME DIRECTION Gbit/s. Interleaved, so that the shared
# machine's noise falls on every side alike.
for i in $(seq "$runs"); do
	for dir in up down; do
		for n in "${names[@]}"; do
			flag=; [ "$dir" = down ] && flag=-R
			iperf3 -c 127.0.0.1 -p "${port[$n]}" -t "$secs" -O 1 $flag -J >"$work/run.json"
			python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[2], sys.argv[3], r["end"]["sum_received"]["bits_per_second"]/1e9)' \
				"$work/run.json" "$n" "$dir" >>"$work/results"
		done
	done
done

echo "== TCP throughput through a published port: median of $runs runs of ${secs}s (iperf3, one stream)"
python3 - "$work/results" "${names[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
names = sys.argv[2:]
label = {"loopback": "host loopback, no forwarder", "rootlesskit": "rootlesskit v2.3.6 builtin driver", "nook": "nook published port"}
med = {}
for dir, what in (("up", "host → role"), ("down", "role → host (-R)")):
    print(f"-- {what}")
    for n in names:
        v = [float(r[2]) for r in rows if r[0] == n and r[1] == dir]
        med[n, dir] = statistics.median(v)
        print(f"  {label[n]:34s} {med[n, dir]:6.2f} Gbit/s   (min {min(v):.2f}, max {max(v):.2f})")
    if ("nook", dir) in med:
        print(f"  nook / rootlesskit: {med['nook', dir] / med['rootlesskit', dir]:.2f}")
PY

echo "== resident memory while serving (MiB)"
rk_procs=("$rk_pid" $(children "$rk_pid"))
rk_own=()
for p in "${rk_procs[@]}"; do [ "$(cat /proc/"$p"/comm 2>/dev/null)" = iperf3 ] || rk_own+=("$p"); done
echo "  rootlesskit (parent + child): $(rss "${rk_own[@]}")"
if [ -n "${nook_up:-}" ]; then
	run=/tmp/nook-$(id -u)
	[ -z "${XDG_RUNTIME_DIR:-}" ] || run=$XDG_RUNTIME_DIR/nook
	for f in "$run"/pods/*/pod.json; do
		pod=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f")
		slirp=()
		for c in $(children "$pod"); do [ "$(cat /proc/"$c"/comm 2>/dev/null)" = slirp4netns ] && slirp+=("$c"); done
		echo "  nook-pod: $(rss "$pod")   slirp4netns: $(rss "${slirp[@]}")"
	done
	for f in "$run"/projects/*/supervisor.json; do
		[ -e "$f" ] || continue
		sup=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r.get("owner", r).get("pid", 0))' "$f")
		echo "  nook up -d supervisor: $(rss "$sup")"
	done
fi
