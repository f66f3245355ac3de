// Package cgroups applies a role's resource limits (memory, cpus, pids)
// through cgroup v2, where the user's part of the hierarchy is delegated
// to the user (as systemd's user@.service delegates memory, pids and cpu).
//
// Detect reads, from a root that tests can fake, how the machine's
// cgroups are set up: the hierarchy (unified v2, hybrid, legacy v1), the
// process's own cgroup and the nearest cgroup above it that the user owns
// with controllers to hand out (the Base where role cgroups are made), or
// why there is none. Create makes one cgroup per role run under that base
// with its limits written, ready for nook-init to be moved into before it
// starts the command; Remove takes it away once the role has ended, and
// OOMKills tells whether the kernel's OOM killer struck inside it.
//
// Nothing here starts processes: rootless moves nook-init in (AddProcess),
// cmd reads usage for nook ps (Find, Usage) and doctor reports what
// Detect found.
package cgroups
