//go:build linux && !amd64 && !arm64

package rootless

// seccompArchs is empty: the fake-ownership filter knows only amd64 and
// arm64, and Spec.FakeOwnership fails elsewhere.
var seccompArchs []seccompArch
