#!/usr/bin/env bash
# Build speed: cold and no-op `nook build` of a real Debian image (mmdebstrap's
# root filesystem as it is, /dev nodes included) + two packages from Debian's
# mirror + one setup step, side by side with `podman build` of the same
# Containerfile (runc, podman's default rootless network, like nook's steps)
# from the same loopback registry, with hyperfine.
# Run it as an ordinary user (with subordinate ids, for podman and
# mmdebstrap) from the repository root:   bash bench/build.sh [COLD_RUNS] [NOOP_RUNS]
# Needs: hyperfine, podman, runc, mmdebstrap (Debian packages) and Debian's
# mirror. NOOK_BIN and REGISTRY_BIN may name prebuilt binaries of ./cmd/nook
# (with ./cmd/nook-init beside it) and of ./bench/registry (for a user whose
# Go cannot build the module).
set -euo pipefail
cold_runs=${1:-5}
noop_runs=${2:-30}
work=$(mktemp -d /tmp/nook-bench-build.XXXXXX)
cleanup() {
	[ -n "${registry_pid:-}" ] && kill "$registry_pid" 2>/dev/null
	podman --root "$work/podman" --runroot "$work/podman-run" unshare rm -rf "$work/podman" 2>/dev/null || true
	chmod -R u+w "$work" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# The registry: the Debian test image (mmdebstrap, cached under
# ~/.cache/nook-test) served on loopback until this script ends.
. bench/lib.sh
build_nook
serve_registry

mkdir "$work/project"
cat >"$work/project/nook.toml" <<TOML
image = "$host/bench/debian:bookworm"
packages = ["hello", "jq"]
setup = ["hello | jq -R . > /greeting"]
TOML
cat >"$work/project/Containerfile" <<DOCKER
FROM $host/bench/debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends hello jq && apt-get clean && rm -rf /var/lib/apt/lists/*
RUN hello | jq -R . > /greeting
DOCKER
export NOOK_HOME=$work/store NOOK_CONFIG=$work/config.toml
podman="podman --root $work/podman --runroot $work/podman-run --storage-driver overlay"
pbuild="$podman build -q --runtime runc --tls-verify=false -t bench-build -f $work/project/Containerfile $work/project"
nbuild="$nook -C $work/project build"

echo "== cold: empty store, no lock ($cold_runs runs)"
hyperfine --runs "$cold_runs" --export-json "$work/cold.json" \
	--prepare "rm -rf $work/store $work/project/nook.lock" -n "nook build (cold)" "$nbuild" \
	--prepare "$podman rmi -a -f >/dev/null 2>&1; $podman system prune -a -f >/dev/null 2>&1; true" -n "podman build (cold)" "$pbuild"

echo "== no-op: everything built ($noop_runs runs)"
$nbuild && $pbuild >/dev/null
hyperfine -N --warmup 3 --runs "$noop_runs" --export-json "$work/noop.json" \
	-n "nook build (no-op)" "$nbuild" \
	-n "podman build (no-op)" "$pbuild"

python3 - "$work/cold.json" "$work/noop.json" <<'PY'
import json, sys
for path in sys.argv[1:]:
    r = json.load(open(path))["results"]
    nook, other = r[0]["median"] * 1000, r[1]["median"] * 1000
    print(f"median: {r[0]['command']} {nook:.1f} ms, {r[1]['command']} {other:.1f} ms: podman/nook {other / nook:.1f}x")
PY
