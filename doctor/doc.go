// Package doctor checks, before anything fails, that a machine has what
// nook needs: the kernel and its features, unprivileged user namespaces
// (with the sysctls and the AppArmor restriction that can forbid them), a
// real trial run through nook-init, subordinate ids for the full id map,
// slirp4netns and /dev/net/tun, the unprivileged port start, inotify
// limits, cgroup v2 delegation for limits, the store's file system, the
// user config and its registries, and, inside a project, nook.toml,
// nook.lock and the built environment.
//
// Each check yields one Result: ok, warn or fail, one line of what it
// found and, for a problem, the commands that fix it and keep the fix.
// The checks read the machine through a Machine: a root directory that
// tests replace with a tree standing in for /proc/sys, /sys/fs/cgroup,
// /etc/subuid and the rest, and a few functions for what is not a file
// (finding programs, free space, the trial run, registries). The checks
// that the failing commands make too (rootless.UsernsRefusals,
// OutboundRefusal, FullMapRefusal, LowPortRefusal, watch.LimitError,
// cgroups.Detect) are theirs, called from here, never copied.
package doctor
