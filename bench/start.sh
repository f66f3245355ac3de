#!/usr/bin/env bash
# Start latency: `nook run` of /bin/true in a built environment, side by side
# with bwrap and podman, with hyperfine. Run it as an ordinary user from the
# repository root:   bash bench/start.sh [RUNS]
# Needs: hyperfine, bubblewrap, podman and runc (Debian packages).
set -euo pipefail
runs=${1:-200}
work=$(mktemp -d /tmp/nook-bench.XXXXXX)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/" ./cmd/... # nook and nook-init, side by side
go run ./bench/mkimage "$work"
mkdir "$work/project"
cat >"$work/project/nook.toml" <<TOML
image = "docker-archive:$work/busybox.tar"
# network = "none": like bwrap --unshare-all and podman --network none, a
# new network namespace with loopback only, so the role starts on its own.
[roles.true]
command = ["/bin/true"]
network = "none"

# The default private network: the role starts through the project's pod
# (nook-pod, its network namespace and slirp4netns), made for this run.
[roles.private]
command = ["/bin/true"]
TOML
export NOOK_HOME=$work/store
"$work/nook" -C "$work/project" run true # pull and unpack once: the benchmark is the warm path
podman load -q -i "$work/busybox.tar" >/dev/null
podman_runs=$(( runs < 50 ? runs : 50 ))

echo "== nook vs bwrap ($runs runs)"
hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/bwrap.json" \
	-n "nook run" "$work/nook -C $work/project run true" \
	-n "bwrap --unshare-all" "bwrap --unshare-all --ro-bind $work/rootfs / --proc /proc --dev /dev /bin/true" \
	-n "nook run (private network: a pod)" "$work/nook -C $work/project run private"
echo "== nook vs podman run --rm ($podman_runs runs)"
hyperfine -N --warmup 3 --runs "$podman_runs" --export-json "$work/podman.json" \
	-n "nook run" "$work/nook -C $work/project run true" \
	-n "podman run --rm (runc)" "podman run --rm --runtime runc --network none localhost/nook-bench/busybox:latest /bin/true"

# Medians and ratios (the machine is shared and noisy: means mislead).
python3 - "$work/bwrap.json" "$work/podman.json" <<'PY'
import json, sys
for path in sys.argv[1:]:
    r = json.load(open(path))["results"]
    nook, other = r[0]["median"] * 1000, r[1]["median"] * 1000
    print(f"median: {r[0]['command']} {nook:.1f} ms, {r[1]['command']} {other:.1f} ms: nook/other {nook / other:.2f}, other/nook {other / nook:.1f}")
    for extra in r[2:]:
        print(f"median: {extra['command']} {extra['median'] * 1000:.1f} ms: /{r[1]['command']} {extra['median'] * 1000 / other:.2f}")
PY
