// Package companion finds nook's companion programs — nook-init, which
// runs inside a role's namespaces, and nook-manifests, which writes
// Kubernetes and Compose files — and makes sure they are from nook's own
// build. They are programs of their own so that each links only what it
// needs: nook's start does not pay for the manifests' libraries, nor a
// role's start for nook's. nook finds them beside its own executable (`go
// install ./cmd/...` and `go build -o DIR/ ./cmd/...` put them there) and
// hands each its build id (BuildID) as its first argument; a companion
// refuses to run for another build (Check), as what they say to each
// other is nook's own business and changes between versions.
package companion

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
)

var executable = sync.OnceValues(os.Executable)

// Path is where the companion program name is: beside the running
// executable.
func Path(name string) (string, error) {
	exe, err := executable()
	if err != nil {
		return "", fmt.Errorf("finding nook's executable, beside which %s lies: %w", name, err)
	}
	return filepath.Join(filepath.Dir(exe), name), nil
}

// version is the module's version (or VCS revision) and the Go version the
// running executable was built from.
var version = sync.OnceValue(func() string {
	v := "devel"
	if info, ok := debug.ReadBuildInfo(); ok {
		if m := info.Main.Version; m != "" && m != "(devel)" {
			v = m
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision":
				v += "-" + s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				v += "+modified"
			}
		}
	}
	return v + "/" + runtime.Version()
})

// BuildID identifies the build of the running executable for a companion
// whose messages have the shapes that digest (Digest) sums up: the
// module's version or VCS revision, the Go version, and that digest, so
// that even two development builds without version information are told
// apart when their messages differ. nook and the companions built with it
// have the same.
//
// The digest is a constant of the protocol's package, checked by a test
// against Digest: walking the types at every start would cost a process
// some 0.3 ms.
func BuildID(digest string) string { return version() + "/" + digest }

// Digest sums up the shapes of the messages of a protocol (values of their
// types): their fields' names, types and tags, recursively.
func Digest(protocol ...any) string {
	var shapes strings.Builder
	seen := map[reflect.Type]bool{}
	for _, m := range protocol {
		writeShape(&shapes, reflect.TypeOf(m), seen)
	}
	h := fnv.New64a()
	h.Write([]byte(shapes.String()))
	return strconv.FormatUint(h.Sum64(), 36)
}

// writeShape writes t's shape to b (field names, types and tags,
// recursively): each named type once, then by name.
func writeShape(b *strings.Builder, t reflect.Type, seen map[reflect.Type]bool) {
	if t.Name() != "" {
		b.WriteString(t.String())
		b.WriteByte(' ')
		if seen[t] {
			return
		}
		seen[t] = true
	}
	b.WriteString(t.Kind().String())
	b.WriteByte(' ')
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		writeShape(b, t.Elem(), seen)
	case reflect.Map:
		writeShape(b, t.Key(), seen)
		writeShape(b, t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			b.WriteString(f.Name)
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(string(f.Tag)))
			b.WriteByte(' ')
			writeShape(b, f.Type, seen)
		}
	}
}

// Check is a companion's side of the handshake: args are its arguments
// (os.Args), the first of which must be id, its own BuildID.
func Check(args []string, id string) error {
	if len(args) > 1 && args[1] == id {
		return nil
	}
	name := "this program"
	if len(args) > 0 {
		name = filepath.Base(args[0])
	}
	if len(args) < 2 {
		return fmt.Errorf("started without nook's build id: nook starts %s, it is not a command of its own", name)
	}
	self, _ := executable()
	return &Error{
		msg:  fmt.Sprintf("%s is not from nook's build: it is %s, nook is %s", self, id, args[1]),
		hint: installHint,
	}
}

// installHint says how to get nook and its companions from one build.
const installHint = "install nook and its companion programs (nook-init, nook-manifests) together, from one build:\n" +
	"`go install github.com/nookenv/nook/cmd/...@VERSION`, or `CGO_ENABLED=0 go build -o bin/ ./cmd/...` in a clone of nook"

// StartError explains err, a failure to execute the companion at path,
// when the file is the reason: it is missing, or not an executable file.
// why says what nook needs it for. It returns nil otherwise.
func StartError(path, why string, err error) error {
	fi, serr := os.Stat(path)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		return &Error{msg: fmt.Sprintf("%s is missing: %s, and looks for it beside its own executable", path, why), hint: installHint}
	case serr != nil:
		return &Error{msg: fmt.Sprintf("starting %s: %v", path, serr), hint: installHint}
	case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
		return &Error{msg: fmt.Sprintf("%s is not an executable file (%v): %v", path, fi.Mode(), err), hint: installHint}
	}
	return nil
}

// Error is a companion that is missing or from another build, with the
// way to install the right one.
type Error struct{ msg, hint string }

func (e *Error) Error() string { return e.msg }

// Hint says how to install nook and its companions together.
func (e *Error) Hint() string { return e.hint }
