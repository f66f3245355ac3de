#!/usr/bin/env bash
# nook up with 1 and with 5 long-running roles: `nook up -d` (returns once
# every role is ready: its port accepts connections) and `nook stop`, side
# by side with podman running the same containers in a pod (`podman pod
# create` with the ports, then `podman run -d --init --pod` per role:
# catatonit as pid 1, as nook-init is; podman waits for no readiness) and
# `podman pod rm -f`, with hyperfine. Run it as an ordinary user from the
# repository root:   bash bench/up.sh [RUNS]
# Needs: hyperfine, podman and runc (Debian packages), slirp4netns.
# NOOK_BIN may name a prebuilt ./cmd/nook (with its companions beside it).
set -euo pipefail
runs=${1:-20}
work=$(mktemp -d /tmp/nook-bench-up.XXXXXX)
cleanup() {
	for n in 1 5; do
		[ -n "${nook:-}" ] && "$nook" -C "$work/up-$n" stop >/dev/null 2>&1
		podman pod rm -f "nook-bench-up-$n" >/dev/null 2>&1
	done
	chmod -R u+w "$work" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

. bench/lib.sh
build_nook
go run ./bench/mkimage "$work"
export NOOK_HOME=$work/store
podman load -q -i "$work/busybox.tar" >/dev/null
img=localhost/nook-bench/busybox:latest

# up-N: N roles, each busybox httpd on a port of its own, published and
# checked for readiness; pod-N.sh: the same with podman.
for n in 1 5; do
	mkdir "$work/up-$n"
	echo "image = \"docker-archive:$work/busybox.tar\"" >"$work/up-$n/nook.toml"
	pod="podman --runtime runc pod create --name nook-bench-up-$n"
	runs_sh=""
	for i in $(seq "$n"); do
		port=$((18080 + i))
		cat >>"$work/up-$n/nook.toml" <<TOML

[roles.web$i]
command = ["httpd", "-f", "-p", "$port"]
ports = ["127.0.0.1:$port:$port"]
ready = { port = $port }
TOML
		pod="$pod -p 127.0.0.1:$((port + 100)):$port"
		runs_sh="$runs_sh
podman run -d --init --runtime runc --pod nook-bench-up-$n $img httpd -f -p $port >/dev/null"
	done
	printf '#!/bin/sh\nset -e\n%s >/dev/null%s\n' "$pod" "$runs_sh" >"$work/pod-$n.sh"
	chmod +x "$work/pod-$n.sh"
	"$nook" -C "$work/up-$n" build >/dev/null
done

for n in 1 5; do
	echo "== $n role(s) ($runs runs)"
	hyperfine --runs "$runs" --export-json "$work/up-$n.json" \
		--prepare "$nook -C $work/up-$n stop" -n "nook up -d ($n)" "$nook -C $work/up-$n up -d" \
		--prepare "$nook -C $work/up-$n stop; $nook -C $work/up-$n up -d >/dev/null" -n "nook stop ($n)" "$nook -C $work/up-$n stop" \
		--prepare "podman pod rm -f nook-bench-up-$n >/dev/null 2>&1; true" -n "podman pod + run -d ($n)" "$work/pod-$n.sh" \
		--prepare "podman pod rm -f nook-bench-up-$n >/dev/null 2>&1; $work/pod-$n.sh" -n "podman pod rm -f ($n)" "podman pod rm -f nook-bench-up-$n"
	"$nook" -C "$work/up-$n" stop >/dev/null 2>&1 || true
done

python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
for n in (1, 5):
    r = json.load(open(os.path.join(work, f"up-{n}.json")))["results"]
    print(f"{n} role(s): " + ", ".join(f"{x['command']} {x['median'] * 1000:.0f} ms" for x in r))
PY
