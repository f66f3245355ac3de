package rootless

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// defaultPath is searched when the process environment has no PATH, as a
// shell or `docker run` would.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPath finds the executable that name refers to in the PATH of env,
// inside the root the caller is in. A name holding a slash is returned as
// it is: execve will judge it.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path, ok := getenv(env, "PATH")
	if !ok {
		path = defaultPath
	}
	if name != "" {
		for _, dir := range filepath.SplitList(path) {
			if dir == "" {
				dir = "."
			}
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", &StartError{
		code: exitNotFound,
		msg:  fmt.Sprintf("starting %s: executable file not found in $PATH", name),
		hint: fmt.Sprintf("the role's PATH is %s: install %s in the image or give its full path", path, name),
	}
}

// getenv is the value of key in env ("KEY=VALUE" entries, the last wins).
func getenv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}
