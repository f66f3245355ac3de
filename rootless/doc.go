// Package rootless starts a role as an ordinary user: it re-executes nook as
// "nook-init" in new user, mount, pid, uts, ipc (and network) namespaces,
// maps the invoking user to root inside, applies the mount plan and runs
// the command under an init that is pid 1: it reaps zombies, forwards
// signals and exits with the command's status.
//
// Roles that share a network run through a pod (JoinPod, Pod.Run): one
// re-executed "nook-pod" process per project, in a user namespace of its
// own, holding the pod's network namespace, its outbound link and its
// published ports (Network). It starts each role's nook-init on request
// over a unix socket, which carries the role's stdio (as descriptors), its
// signals and its exit status; a role dies with its connection, and the
// pod ends after its last role.
//
// Build steps run the same way with one of two id maps: the single-id map
// with a seccomp filter that fakes ownership changes (Spec.FakeOwnership),
// or the full map of the user's subordinate ids (Spec.IDMap, through
// newuidmap and newgidmap). RemoveAll removes trees such steps leave
// behind.
package rootless
