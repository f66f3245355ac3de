package build

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Platform is the platform nook runs on as nook.lock and image indexes name
// it: "linux/amd64", "linux/arm64", "linux/arm/v7".
func Platform() string {
	p := runtime.GOOS + "/" + runtime.GOARCH
	if runtime.GOARCH != "arm" {
		return p
	}
	variant := "v7" // Go's default GOARM
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOARM" && s.Value != "" {
				variant = "v" + strings.SplitN(s.Value, ",", 2)[0]
			}
		}
	}
	return p + "/" + variant
}
