// Package env reads a project's nook.toml and the user's config.toml,
// validates them with file:line:col positions, and resolves them into an
// immutable Env: the image reference, the build steps and the roles with
// their defaults applied. It makes no system calls beyond reading those
// files and never touches the network.
package env
