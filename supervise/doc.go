// Package supervise runs a set of roles and restarts them: the engine under
// `nook watch` and `nook up`. It knows nothing of namespaces; a
// Starter runs one role in the foreground until it ends or its context is
// cancelled.
//
// Roles start in dependency order: a one-shot role must end with status 0
// before the roles that depend on it start; a long-running role is started
// and left running. A restart stops the roles concerned and their dependants
// (dependants first, each run waited for until it has ended, so that a role
// never has two runs alive), then starts them again in dependency order. A
// restart that arrives while an earlier one is still starting roles cancels
// it and takes over the roles it had not finished.
//
// For `nook up`, a role may also have a restart policy (on-failure,
// always; restarted after a back-off that doubles, up to a limit) and a
// readiness check: a long-running role with one must pass it before the
// roles that depend on it start.
package supervise
