#!/usr/bin/env bash
# Export speed: `nook export --docker-archive` of a built Debian environment
# (the Debian test image + one package + one setup step + the project's
# files) side by side with `podman save` of the same image built by podman
# from the equivalent Containerfile, and `nook export --oci` (gzip) for
# reference, with hyperfine. Run it as an ordinary user (with subordinate
# ids, for podman and mmdebstrap) from the repository root:
#   bash bench/export.sh [RUNS]
# Needs: hyperfine, podman, runc, mmdebstrap (Debian packages) and Debian's
# mirror. NOOK_BIN and REGISTRY_BIN may name prebuilt binaries.
set -euo pipefail
runs=${1:-5}
work=$(mktemp -d /tmp/nook-bench-export.XXXXXX)
cleanup() {
	[ -n "${registry_pid:-}" ] && kill "$registry_pid" 2>/dev/null
	podman --root "$work/podman" --runroot "$work/podman-run" unshare rm -rf "$work/podman" 2>/dev/null || true
	chmod -R u+w "$work" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

. bench/lib.sh
build_nook
serve_registry

mkdir -p "$work/project/src"
echo 'hello from the exported project' >"$work/project/src/index.html"
cat >"$work/project/nook.toml" <<TOML
image = "$host/bench/debian:bookworm"
packages = ["hello"]
setup = ["hello > /greeting"]

[roles.web]
command = "hello"
ports = ["18090:8080"]
TOML
cat >"$work/Containerfile" <<DOCKER
FROM $host/bench/debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends hello && apt-get clean && rm -rf /var/lib/apt/lists/*
RUN hello > /greeting
COPY project /work
DOCKER
export NOOK_HOME=$work/store NOOK_CONFIG=$work/config.toml
podman="podman --root $work/podman --runroot $work/podman-run --storage-driver overlay"
$nook -C "$work/project" build
$podman build -q --runtime runc --network=host --tls-verify=false -t bench-export -f "$work/Containerfile" "$work" >/dev/null
$nook -C "$work/project" export --docker-archive "$work/nook.tar" >/dev/null 2>&1
$podman save -o "$work/podman.tar" bench-export
ls -l "$work/nook.tar" "$work/podman.tar"

hyperfine --warmup 1 --runs "$runs" --export-json "$work/export.json" \
	--prepare "rm -f $work/nook.tar" -n "nook export --docker-archive" "$nook -C $work/project export --docker-archive $work/nook.tar" \
	--prepare "rm -f $work/podman.tar" -n "podman save" "$podman save -o $work/podman.tar bench-export" \
	--prepare "rm -rf $work/oci" -n "nook export --oci (gzip)" "$nook -C $work/project export --oci $work/oci"

python3 - "$work/export.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[1]["median"]
for x in r:
    print(f"median: {x['command']:<32} {x['median'] * 1000:8.1f} ms  ({x['median'] / base:.2f}x podman save)")
PY
