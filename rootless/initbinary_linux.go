package rootless

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
)

// nook-init is a program of its own, not nook re-executed: it links only
// what runs inside the namespaces (this package and mounts), so that a
// role's start pays for starting a small binary rather than all of nook.
// nook finds it beside its own executable (go install ./cmd/... and go
// build -o DIR ./cmd/... put them side by side) and hands it its build id
// as argv[1]; nook-init refuses to run for another build, as what the two
// say to each other is nook's own business and changes between versions.
//
// initBinary is where nook-init is for this process. A pod starts its
// roles' inits from its own binary (/proc/self/exe), which is nook-init;
// the package's tests set it to /proc/self/exe, the test binary.
var initBinary = sync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding nook's executable, beside which %s lies: %w", InitName, err)
	}
	return filepath.Join(filepath.Dir(exe), InitName), nil
})

// buildID identifies the build of the running executable: the module's
// version (or VCS revision) and the Go version it was built with, and a
// digest of the messages nook and nook-init exchange, so that even two
// development builds without version information are told apart when
// those differ. nook and the nook-init built with it have the same.
var buildID = sync.OnceValue(func() string {
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
	return v + "/" + runtime.Version() + "/" + protocolDigest()
})

// protocolDigest is a digest of the shape of every message between nook
// and nook-init (field names, types and tags, recursively).
func protocolDigest() string {
	h := fnv.New64a()
	seen := map[reflect.Type]bool{}
	for _, m := range []any{Spec{}, startMessage{}, PodOptions{}, podRequest{}, podReply{}} {
		writeShape(h, reflect.TypeOf(m), seen)
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// writeShape writes t's shape to w: each named type once, then by name.
func writeShape(w io.Writer, t reflect.Type, seen map[reflect.Type]bool) {
	if t.Name() != "" {
		fmt.Fprint(w, t.String(), " ")
		if seen[t] {
			return
		}
		seen[t] = true
	}
	fmt.Fprint(w, t.Kind(), " ")
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		writeShape(w, t.Elem(), seen)
	case reflect.Map:
		writeShape(w, t.Key(), seen)
		writeShape(w, t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(w, "%s %q ", f.Name, f.Tag)
			writeShape(w, f.Type, seen)
		}
	}
}

// initArgs are the arguments nook-init is started with under name
// (InitName or PodName).
func initArgs(name string) []string { return []string{name, buildID()} }

// checkBuild is nook-init's side of the handshake: it refuses to run for
// a nook of another build, named by argv[1].
func checkBuild() error {
	if len(os.Args) == 2 && os.Args[1] == buildID() {
		return nil
	}
	if len(os.Args) < 2 {
		return errors.New("started without nook's build id: nook starts nook-init, it is not a command of its own")
	}
	self, _ := os.Executable()
	return &StartError{code: exitNook,
		msg:  fmt.Sprintf("%s is not from nook's build: it is %s, nook is %s", self, buildID(), os.Args[1]),
		hint: initInstallHint}
}

// initInstallHint says how to get nook and nook-init from one build.
const initInstallHint = "install nook and nook-init together, from one build: `go install github.com/nookenv/nook/cmd/...@VERSION`,\n" +
	"or `CGO_ENABLED=0 go build -o bin/ ./cmd/...` in a clone of nook"

// initStartError explains a failure to execute nook-init at path, when
// the file is the reason: it is missing, or not an executable file. It
// returns nil otherwise (the namespaces were refused, for one).
func initStartError(path string, err error) error {
	fi, serr := os.Stat(path)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		return &StartError{code: exitNook,
			msg:  fmt.Sprintf("%s is missing: nook runs every role through it and looks for it beside its own executable", path),
			hint: initInstallHint}
	case serr != nil:
		return &StartError{code: exitNook, msg: fmt.Sprintf("starting %s: %v", InitName, serr), hint: initInstallHint}
	case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
		return &StartError{code: exitNook,
			msg:  fmt.Sprintf("%s is not an executable file (%v): %v", path, fi.Mode(), err),
			hint: initInstallHint}
	}
	return nil
}
