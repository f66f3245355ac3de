#!/usr/bin/env bash
# Pull + unpack from a registry on loopback: nook against `podman pull` and
# the crude floor (fetch the blobs with crane, decompress with gzip or zstd,
# untar, one sync), side by side with hyperfine, for the Debian test image
# (mmdebstrap, ~165 MB unpacked, one layer) with a gzip layer and with a
# zstd layer, and for images of 10, 50 and 130 small layers. Run it as an
# ordinary user (with subordinate ids, for podman and mmdebstrap) from the
# repository root:   bash bench/pull.sh [RUNS] [LAYER_RUNS]
# Needs: hyperfine, podman, runc, mmdebstrap, zstd, jq (Debian packages);
# crane (go-containerregistry's CLI) is installed into the scratch directory
# with `go install` when it is not on PATH. NOOK_BIN and REGISTRY_BIN may
# name prebuilt binaries of ./cmd/nook (with its companions beside it) and
# of ./bench/registry.
set -euo pipefail
runs=${1:-10}
layer_runs=${2:-10}
work=$(mktemp -d /tmp/nook-bench-pull.XXXXXX)
podman="podman --root $work/podman --runroot $work/podman-run --storage-driver overlay"
cleanup() {
	[ -n "${registry_pid:-}" ] && kill "$registry_pid" 2>/dev/null
	$podman unshare rm -rf "$work/podman" 2>/dev/null || true
	chmod -R u+w "$work" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

. bench/lib.sh
build_nook
crane=$(command -v crane || true)
if [ -z "$crane" ]; then
	GOBIN=$work/bin go install github.com/google/go-containerregistry/cmd/crane@v0.22.1
	crane=$work/bin/crane
fi
serve_registry -zstd -layers 10,50,130
export NOOK_HOME=$work/store NOOK_CONFIG=$work/config.toml

# The floor, for the Debian image: its layer's blob fetched (crane blob),
# decompressed (gzip -d or zstd -d), untarred (the 8 device nodes left out:
# an ordinary user cannot make them, and neither nook nor podman does), one
# sync of the file system. For the images of many small layers a process
# per layer would measure process starts, not pulls: their floor is one
# crane export (every layer fetched and decompressed, flattened into one
# tar stream) untarred, then one sync.
floor_blob=$work/floor-blob.sh
cat >"$floor_blob" <<'SH'
#!/bin/sh
# floor-blob.sh CRANE REPO@DIGEST DECOMPRESS DIR
set -e
rm -rf "$4" && mkdir -p "$4"
"$1" blob "$2" | $3 | tar -x -C "$4" --exclude='./dev/*'
sync -f "$4"
SH
floor_export=$work/floor-export.sh
cat >"$floor_export" <<'SH'
#!/bin/sh
# floor-export.sh CRANE REF DIR
set -e
rm -rf "$3" && mkdir -p "$3"
"$1" export "$2" - | tar -x -C "$3"
sync -f "$3"
SH
chmod +x "$floor_blob" "$floor_export"

# bench NAME REF FLOOR FLOOR_COMMAND RUNS: one hyperfine run of the three
# pulls of REF.
bench() {
	local name=$1 ref=$2 floor=$3 floor_cmd=$4 n=$5
	mkdir -p "$work/$name"
	printf 'image = "%s"\n' "$ref" >"$work/$name/nook.toml"
	echo "== $name: $ref, $("$crane" manifest "$ref" | jq '.layers | length') layer(s), $n runs"
	hyperfine --runs "$n" --export-json "$work/$name.json" \
		--prepare "rm -rf $work/store $work/$name/nook.lock" \
		-n "nook build (pull + unpack)" "$nook -C $work/$name build" \
		--prepare "$podman rmi -a -f >/dev/null 2>&1; true" \
		-n "podman pull" "$podman pull -q --tls-verify=false $ref" \
		--prepare "rm -rf $work/floor" \
		-n "floor: $floor" "$floor_cmd"
}

# blob REF: REF's only layer, as REPO@DIGEST.
blob() { echo "${1%:*}@$("$crane" manifest "$1" | jq -r '.layers[0].digest')"; }

deb=$host/bench/debian
bench debian-gzip "$deb:bookworm" "crane blob | gzip -d | tar -x; sync" \
	"$floor_blob $crane $(blob "$deb:bookworm") 'gzip -d' $work/floor" "$runs"
bench debian-zstd "$deb:zstd" "crane blob | zstd -d | tar -x; sync" \
	"$floor_blob $crane $(blob "$deb:zstd") 'zstd -d' $work/floor" "$runs"
for n in 10 50 130; do
	bench "layers-$n" "$host/bench/layers:$n" "crane export | tar -x; sync" \
		"$floor_export $crane $host/bench/layers:$n $work/floor" "$layer_runs"
done

python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
for name in ["debian-gzip", "debian-zstd", "layers-10", "layers-50", "layers-130"]:
    r = json.load(open(os.path.join(work, name + ".json")))["results"]
    nook, podman, floor = (x["median"] * 1000 for x in r)
    print(f"{name}: nook {nook:.0f} ms, podman pull {podman:.0f} ms, floor {floor:.0f} ms: "
          f"podman/nook {podman / nook:.2f}, nook/floor {nook / floor:.2f}")
PY
