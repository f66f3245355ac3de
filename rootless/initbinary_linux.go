package rootless

import (
	"os"
	"sync"

	"github.com/nookenv/nook/internal/companion"
)

// initBinary is where nook-init is for this process: beside nook's
// executable (companion.Path). A pod starts its roles' inits from its own
// binary (/proc/self/exe), which is nook-init; the package's tests set it
// to /proc/self/exe, the test binary.
var initBinary = func() (string, error) { return companion.Path(InitName) }

// protocol are the messages nook and nook-init exchange: their shapes are
// part of the build id the two compare.
var protocol = []any{Spec{}, startMessage{}, PodOptions{}, podRequest{}, podReply{}}

// protocolDigest is companion.Digest(protocol...), which
// TestProtocolDigest checks: change it with the messages.
const protocolDigest = "3orxxuljkljc6"

// buildID is the build id nook hands nook-init, and nook-init expects.
var buildID = sync.OnceValue(func() string { return companion.BuildID(protocolDigest) })

// initArgs are the arguments nook-init is started with under name
// (InitName or PodName).
func initArgs(name string) []string { return []string{name, buildID()} }

// checkBuild is nook-init's side of the handshake: it refuses to run for
// a nook of another build, named by argv[1].
func checkBuild() error { return companion.Check(os.Args, buildID()) }

// initStartError explains a failure to execute nook-init at path when the
// file is the reason (missing, not executable); nil otherwise.
func initStartError(path string, err error) error {
	return companion.StartError(path, "nook runs every role through it", err)
}
