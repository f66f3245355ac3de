// Package mounts turns a resolved environment and an image snapshot into a
// Plan: an ordered list of typed mount operations computed without a single
// system call, so it can be golden-tested anywhere. Apply (Linux only)
// carries a plan out inside fresh user and mount namespaces and ends with
// pivot_root into the new root.
package mounts
