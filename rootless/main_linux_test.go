package rootless

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// parentEnv holds a Spec as JSON: with it set, the test binary is the
// parent, nook itself, running that Spec (for tests that kill or signal
// nook).
const parentEnv = "NOOK_ROOTLESS_TEST_PARENT"

func TestMain(m *testing.M) {
	// The test binary is nook-init too, as cmd/nook-init's main routes it.
	initBinary = func() (string, error) { return "/proc/self/exe", nil }
	switch filepath.Base(os.Args[0]) {
	case InitName:
		Init()
	case PodName:
		PodMain()
	case RemoveName:
		RemoveMain()
	case TrialName:
		TrialMain()
	}
	if addr := os.Getenv(listenEnv); addr != "" {
		os.Exit(listenMain(addr))
	}
	if s := os.Getenv(podClientEnv); s != "" {
		os.Exit(podClientMain(s))
	}
	if dir := os.Getenv(probeEnv); dir != "" {
		os.Exit(ownershipProbe(dir))
	}
	if s := os.Getenv(parentEnv); s != "" {
		os.Exit(parentMain(s))
	}
	code := m.Run()
	if layerDir != "" {
		os.RemoveAll(layerDir)
	}
	os.Exit(code)
}

// parentMain runs the Spec in s on the process's stdio and exits as nook
// would: with the command's status, or with the error's exit code.
func parentMain(s string) int {
	var spec Spec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "parent:", err)
		return 2
	}
	code, err := Run(context.Background(), &spec, Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "parent:", err)
	}
	return code
}
