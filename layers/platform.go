package layers

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// hostPlatform is the platform nook runs on, as image indexes name it:
// "linux/amd64", "linux/arm64", "linux/arm/v7".
func hostPlatform() v1.Platform {
	p := v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if p.Architecture == "arm" {
		p.Variant = "v7" // Go's default GOARM
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "GOARM" && s.Value != "" {
					p.Variant = "v" + strings.SplitN(s.Value, ",", 2)[0]
				}
			}
		}
	}
	return p
}

// HostPlatform is the platform nook runs on as nook.lock and image indexes
// name it: "linux/amd64", "linux/arm64", "linux/arm/v7".
func HostPlatform() string { return hostPlatform().String() }

// platformFor returns the platform a pull is for: spec ("linux/arm64",
// "linux/arm/v7") or, when spec is empty, the host's.
func platformFor(spec string) (v1.Platform, error) {
	if spec == "" {
		return hostPlatform(), nil
	}
	p, err := v1.ParsePlatform(spec)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("platform %q is not OS/ARCH[/VARIANT], e.g. linux/arm64", spec)
	}
	return *p, nil
}

// pickManifest returns the entry of an image index for platform: the first
// whose OS and architecture match and whose variant matches when platform
// names one. Entries without a platform count as linux/amd64, as Docker
// does.
func pickManifest(ref string, m *v1.IndexManifest, platform v1.Platform) (v1.Descriptor, error) {
	var have []string
	for _, d := range m.Manifests {
		p := v1.Platform{OS: "linux", Architecture: "amd64"}
		if d.Platform != nil {
			p = *d.Platform
		}
		if p.OS == platform.OS && p.Architecture == platform.Architecture &&
			(platform.Variant == "" || p.Variant == platform.Variant) {
			return d, nil
		}
		if p.OS != "unknown" { // attestation manifests say unknown/unknown
			have = append(have, p.String())
		}
	}
	return v1.Descriptor{}, &PlatformError{Ref: ref, Want: platform.String(), Have: have}
}

// PlatformError is an image index without an image for the platform.
type PlatformError struct {
	Ref  string
	Want string   // "linux/arm64"
	Have []string // the platforms the index has
}

func (e *PlatformError) Error() string {
	return fmt.Sprintf("image %s has no %s variant (it has %s)", e.Ref, e.Want, strings.Join(e.Have, ", "))
}

// Hint says how to fix the error.
func (e *PlatformError) Hint() string {
	return "use an image built for " + e.Want + " (a multi-platform image whose index includes it)"
}
