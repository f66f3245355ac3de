package rootless

// The names nook's init program (cmd/nook-init) runs under, as argv[0]:
// what it does follows from them.
const (
	// InitName is the init's file name and its name as a role's pid 1.
	InitName = "nook-init"
	// PodName is the init's name as a project's pod (PodMain).
	PodName = "nook-pod"
)
