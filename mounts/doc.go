// Package mounts is a role's root filesystem as data and its applier: a
// Plan is an ordered list of typed mount operations (rootfs computes it
// from a resolved environment and an image snapshot, without a single
// system call); Apply (Linux only) carries it out inside fresh user and
// mount namespaces and ends with pivot_root into the new root. It imports
// nothing of nook's: nook-init, which applies plans, links it alone.
package mounts
