# Shared by the benchmark scripts (sourced, with $work set and a cleanup
# trap that kills $registry_pid).

# build_nook: $nook is $NOOK_BIN, else nook built with its companions into
# $work/bin. They are copies of what the linker wrote, as an installed
# binary is: a file the linker has just written starts measurably slower
# (by up to 1.5 ms here) than a copy of it.
build_nook() {
	nook=${NOOK_BIN:-}
	if [ -z "$nook" ]; then
		CGO_ENABLED=0 go build -o "$work/build/" ./cmd/... # nook and its companions, side by side
		mkdir -p "$work/bin" && cp "$work"/build/* "$work/bin/"
		nook=$work/bin/nook
	fi
}

# serve_registry ARGS…: bench/registry (or $REGISTRY_BIN) serving on
# loopback with ARGS; $host is its host:port, $registry_pid its pid.
serve_registry() {
	local registry=${REGISTRY_BIN:-}
	if [ -z "$registry" ]; then
		go build -o "$work/registry" ./bench/registry
		registry=$work/registry
	fi
	mkfifo "$work/host"
	"$registry" "$@" >"$work/host" &
	registry_pid=$!
	read -r host <"$work/host"
	echo "registry: $host"
}
