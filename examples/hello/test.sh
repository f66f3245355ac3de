#!/bin/sh
# A tiny test suite run by `nook run test`: it checks the isolation nook gives.
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
check "root inside"             '[ "$(id -u)" = 0 ]'
check "own pid namespace"       '[ "$(ls -d /proc/[0-9]* | wc -l)" -lt 10 ]'
check "own hostname"            '[ "$(hostname)" = hello-nook ]'
check "project mounted at /work" '[ -f /work/nook.toml ]'
check "fresh /tmp"              '[ -z "$(ls -A /tmp)" ]'
exit $fail
