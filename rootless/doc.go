// Package rootless starts a role as an ordinary user: it re-executes nook as
// "nook-init" in new user, mount, pid, uts, ipc (and network) namespaces,
// maps the invoking user to root inside, applies the mount plan and runs
// the command under an init that is pid 1: it reaps zombies, forwards
// signals and exits with the command's status.
package rootless
