package env

import (
	"fmt"
	"path"
	"strings"
)

// specError is a malformed value: what is wrong with it and, when known,
// how to write it instead.
type specError struct {
	msg  string
	hint string
}

func (e *specError) Error() string { return e.msg }
func (e *specError) Hint() string  { return e.hint }

func badSpec(hint, format string, args ...any) *specError {
	return &specError{msg: fmt.Sprintf(format, args...), hint: hint}
}

const (
	mountSyntax  = "SRC:DST[:ro|rw]"
	volumeSyntax = "NAME:DST[:ro]"
)

// parseMount parses SRC:DST[:ro|rw]. The source is kept as written (Resolve
// makes it absolute); the target is cleaned.
func parseMount(spec string) (Mount, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Mount{}, badSpec(`e.g. "./data:/data:ro"`, "%q is not a mount; expected %s", spec, mountSyntax)
	}
	m := Mount{Source: parts[0]}
	switch {
	case m.Source == "":
		return Mount{}, badSpec("", "%q has an empty source; expected %s", spec, mountSyntax)
	case strings.ContainsRune(m.Source, 0):
		return Mount{}, badSpec("", "%q: the source contains a NUL character", spec)
	case strings.HasPrefix(m.Source, "~") && m.Source != "~" && !strings.HasPrefix(m.Source, "~/"):
		return Mount{}, badSpec("write the path in full", "%q: only ~ and ~/… are expanded, not ~user", spec)
	}
	target, err := checkTarget(spec, parts[1])
	if err != nil {
		return Mount{}, err
	}
	m.Target = target
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			m.ReadOnly = true
		case "rw":
		default:
			return Mount{}, badSpec("", "%q: unknown mount option %q; expected ro or rw", spec, parts[2])
		}
	}
	return m, nil
}

// parseVolume parses NAME:DST[:ro] (":rw", the default, is accepted too).
func parseVolume(spec string) (Volume, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Volume{}, badSpec(`e.g. "cache:/root/.cache"`, "%q is not a volume; expected %s", spec, volumeSyntax)
	}
	v := Volume{Name: parts[0]}
	if !isVolumeName(v.Name) || len(v.Name) > 128 {
		return Volume{}, badSpec("", "%q: %q is not a volume name; expected letters, digits, _, . and - (not first), at most 128", spec, v.Name)
	}
	target, err := checkTarget(spec, parts[1])
	if err != nil {
		return Volume{}, err
	}
	v.Target = target
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			v.ReadOnly = true
		case "rw":
		default:
			return Volume{}, badSpec("", "%q: unknown volume option %q; expected ro or rw", spec, parts[2])
		}
	}
	return v, nil
}

// checkTarget checks the DST of a mount or volume and returns it cleaned.
func checkTarget(spec, dst string) (string, error) {
	switch {
	case dst == "":
		return "", badSpec("", "%q has an empty target; the target must be an absolute path", spec)
	case strings.ContainsRune(dst, 0):
		return "", badSpec("", "%q: the target contains a NUL character", spec)
	case !path.IsAbs(dst):
		return "", badSpec("", "%q: the target %q is not an absolute path", spec, dst)
	case path.Clean(dst) == "/":
		return "", badSpec("", "%q: nothing can be mounted over /", spec)
	}
	return path.Clean(dst), nil
}

// checkWorkdir checks a workdir: an absolute path other than /.
func checkWorkdir(dir string) (string, error) {
	switch {
	case strings.ContainsRune(dir, 0):
		return "", badSpec("", "the path contains a NUL character")
	case !path.IsAbs(dir):
		return "", badSpec(`e.g. workdir = "/work"`, "%q is not an absolute path", dir)
	}
	return path.Clean(dir), nil
}
