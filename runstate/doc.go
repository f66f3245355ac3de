// Package runstate keeps what nook knows about running roles on disk, in
// the run-state directory (SPEC §1): one directory per project, holding
// the supervisor of `nook up` (supervisor.json), a record per role run
// (roles/*.json) and the roles' logs (logs/*.log).
//
// Every record names the process that owns it by pid and process start
// time (from /proc/PID/stat), so that a pid the kernel has since given to
// another process is never mistaken for the owner: a record whose owner is
// gone is stale, and reading it cleans it rather than reporting it.
//
// The run-state directory is often /tmp/nook-UID, a name any local user
// can take first. Every directory here is made one level at a time and
// checked before use: the user's own, mode 0700, not a symbolic link; a
// record is trusted only from a regular file of the user's; logs are
// created afresh, never written through what was at their path
// (internal/safefile, SPEC §8a).
package runstate
