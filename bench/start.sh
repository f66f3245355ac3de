#!/usr/bin/env bash
# Start latency: `nook run` of /bin/true in a built environment, side by side
# with bwrap and podman, with hyperfine; then how it grows with the image's
# layers (10, 50, 130). Run it as an ordinary user from the repository root:
#   bash bench/start.sh [RUNS]
# Needs: hyperfine, bubblewrap, podman and runc (Debian packages).
# NOOK_BIN may name a prebuilt ./cmd/nook (with its companions beside it);
# NOOK_BEFORE another nook (an earlier build) to time in the same runs.
set -euo pipefail
runs=${1:-200}
work=$(mktemp -d /tmp/nook-bench.XXXXXX)
podman_runs=$((runs < 50 ? runs : 50))
cleanup() {
	[ -n "${nook:-}" ] && "$nook" -C "$work/project" stop >/dev/null 2>&1
	podman pod rm -f nook-bench-pod >/dev/null 2>&1
	[ -n "${host:-}" ] && for n in 10 50 130; do podman rmi -f "$host/bench/layers:$n" >/dev/null 2>&1; done
	[ -n "${registry_pid:-}" ] && kill "$registry_pid" 2>/dev/null
	chmod -R u+w "$work" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

. bench/lib.sh
build_nook
before=${NOOK_BEFORE:-}
if [ -n "$before" ]; then
	cp "$before" "$work/nook-before" && before=$work/nook-before
fi
go run ./bench/mkimage "$work"
serve_registry -no-debian -layers 10,50,130

mkdir "$work/project"
cat >"$work/project/nook.toml" <<TOML
image = "docker-archive:$work/busybox.tar"
# network = "none": like bwrap --unshare-all and podman --network none, a
# new network namespace with loopback only, so the role starts on its own.
[roles.true]
command = ["/bin/true"]
network = "none"

# The default private network: the role starts through the project's pod
# (nook-pod, its network namespace and slirp4netns), made for this run, or
# joins the pod that nook up keeps running.
[roles.private]
command = ["/bin/true"]

# A long-running role, for nook up: the pod lives while it runs.
[roles.serve]
command = ["sleep", "100000"]
restart = "always"
TOML
for n in 10 50 130; do
	mkdir "$work/layers-$n"
	cat >"$work/layers-$n/nook.toml" <<TOML
image = "$host/bench/layers:$n"
[roles.true]
command = ["/bin/true"]
network = "none"
TOML
done
export NOOK_HOME=$work/store
# Pull and unpack once: the benchmark is the warm path.
"$nook" -C "$work/project" run true
for n in 10 50 130; do "$nook" -C "$work/layers-$n" run true; done
podman load -q -i "$work/busybox.tar" >/dev/null
for n in 10 50 130; do podman pull -q --tls-verify=false "$host/bench/layers:$n" >/dev/null; done
img=localhost/nook-bench/busybox:latest
prun="podman run --rm --runtime runc"

echo "== nook vs bwrap ($runs runs)"
extra=()
[ -n "$before" ] && extra=(-n "nook run, before" "$before -C $work/project run true")
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/bwrap.json" \
	-n "nook run" "$nook -C $work/project run true" \
	-n "bwrap --unshare-all" "bwrap --unshare-all --ro-bind $work/rootfs / --proc /proc --dev /dev /bin/true" \
	-n "nook run (private network: starts a pod)" "$nook -C $work/project run private" \
	"${extra[@]}"

echo "== a role joining a running pod ($runs runs)"
"$nook" -C "$work/project" up -d serve
podman --runtime runc pod create --name nook-bench-pod >/dev/null
podman --runtime runc pod start nook-bench-pod >/dev/null
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/join.json" \
	-n "nook run (private network: joins the pod of nook up)" "$nook -C $work/project run private" \
	-n "bwrap --unshare-all" "bwrap --unshare-all --ro-bind $work/rootfs / --proc /proc --dev /dev /bin/true"
"$nook" -C "$work/project" stop

echo "== nook vs podman run --rm ($podman_runs runs)"
hyperfine -N --warmup 3 --runs "$podman_runs" --export-json "$work/podman.json" \
	-n "nook run" "$nook -C $work/project run true" \
	-n "podman run --rm (runc, --network none)" "$prun --network none $img /bin/true" \
	-n "podman run --rm (runc, its default network)" "$prun $img /bin/true" \
	-n "podman run --rm (runc) joining a running pod" "$prun --pod nook-bench-pod $img /bin/true"

echo "== layers: 10, 50, 130 ($runs runs; podman $podman_runs)"
hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/layers.json" \
	-n "nook run (2 layers)" "$nook -C $work/project run true" \
	-n "nook run (10 layers)" "$nook -C $work/layers-10 run true" \
	-n "nook run (50 layers)" "$nook -C $work/layers-50 run true" \
	-n "nook run (130 layers)" "$nook -C $work/layers-130 run true"
hyperfine -N --warmup 3 --runs "$podman_runs" --export-json "$work/podman-layers.json" \
	-n "podman run --rm (2 layers)" "$prun --network none $img /bin/true" \
	-n "podman run --rm (10 layers)" "$prun --network none $host/bench/layers:10 /bin/true" \
	-n "podman run --rm (50 layers)" "$prun --network none $host/bench/layers:50 /bin/true" \
	-n "podman run --rm (130 layers)" "$prun --network none $host/bench/layers:130 /bin/true"

# Medians and ratios (the machine is shared and noisy: means mislead).
python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
def results(name):
    return json.load(open(os.path.join(work, name + ".json")))["results"]
for name in ["bwrap", "join", "podman", "layers", "podman-layers"]:
    r = results(name)
    base = r[0]["median"] * 1000
    print(f"{name}:")
    for x in r:
        m = x["median"] * 1000
        print(f"  {x['command']}: median {m:.1f} ms ({m / base:.2f}x the first, first/this {base / m:.2f})")
PY
