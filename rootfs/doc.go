// Package rootfs plans a role's root filesystem: a resolved environment,
// one of its roles and an image snapshot become a mounts.Plan — the
// image's layers (or the host's directories) as the root, the project
// directory, mounts and volumes, /proc, /dev, /tmp, the /etc files, then
// pivot_root. Planning is pure (no system calls, no reading the disk), so
// plans are golden-tested anywhere; nook-init applies them.
package rootfs
