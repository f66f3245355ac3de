// Package testpeer serves a unix socket as another user, for the tests of
// code that must refuse such a socket (a socket planted in nook's run
// state, SPEC §8a). The server runs as a subordinate uid of the test's
// user, in a user namespace of its own started with rootless's full id
// map, so a test needs no root: only the user's /etc/subuid range, which
// CI gives it. The server reports, per connection, what the client sent.
//
// Importing the package is enough to make a test binary able to serve:
// its init takes over the re-executed process (see serve).
package testpeer
