// Package safefile keeps nook's own files out of other users' reach and
// keeps hostile input files from hanging or exhausting nook.
//
// The directories nook writes into (the run state, the store) are made one
// level at a time and checked with lstat: a real directory, not a symbolic
// link, owned by the user, with no access (Private) or no write access
// (Shared) for group and others; the top one must also sit in a directory
// nobody else can rename it out of (Dir). The files nook creates there are
// created without following symbolic links (Replace, OpenAppend, OpenLock,
// WriteFile), and the records it reads back are trusted only from regular
// files of the user's own (ReadOwned). A unix socket nook talks to must be
// served by the user (CheckPeer).
//
// Input files (nook.toml, nook.lock, env_file, the user config) are read
// only when they are regular files of at most MaxInput bytes (ReadInput),
// and TOML is scanned for nesting before a parser sees it (CheckTOML), so
// that a fifo, /dev/zero or a file of 50,000 nested tables fails at once.
package safefile
