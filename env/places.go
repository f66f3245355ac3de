package env

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
)

// Find walks up from dir to the nearest directory holding a nook.toml, as
// the go command does for go.mod, and returns that file's path. It returns
// a *NotFoundError when there is none.
func Find(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("finding %s from %s: %w", FileName, dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, FileName)
		if fi, err := os.Stat(candidate); err == nil && !fi.IsDir() {
			return candidate, nil
		}
		if parent := filepath.Dir(d); parent == d {
			return "", &NotFoundError{Dir: abs}
		}
	}
}

// UserConfigPath is the user config file (SPEC §1): $NOOK_CONFIG, else
// $XDG_CONFIG_HOME/nook/config.toml, else ~/.config/nook/config.toml. It is
// "" when neither variable is set and the home directory is unknown.
func UserConfigPath() string {
	if p := os.Getenv("NOOK_CONFIG"); p != "" {
		return p
	}
	return xdgPath("XDG_CONFIG_HOME", ".config", "nook", "config.toml")
}

// StoreDir is the store of layers, volumes and metadata (SPEC §1):
// $NOOK_HOME, else $XDG_DATA_HOME/nook, else ~/.local/share/nook. Without a
// home directory it falls back to a directory below RunDir, so nook still
// works, without keeping anything across reboots.
func StoreDir() string {
	if p := os.Getenv("NOOK_HOME"); p != "" {
		return p
	}
	if p := xdgPath("XDG_DATA_HOME", filepath.Join(".local", "share"), "nook"); p != "" {
		return p
	}
	return filepath.Join(RunDir(), "store")
}

// RunDir is where run state lives: pids, sockets, logs (SPEC §1):
// $XDG_RUNTIME_DIR/nook, else /tmp/nook-$UID. runstate makes it and checks
// it before any use (SPEC §8a): /tmp/nook-$UID may be another user's.
func RunDir() string {
	if p := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(p) {
		return filepath.Join(p, "nook")
	}
	return fmt.Sprintf("/tmp/nook-%d", os.Getuid())
}

// xdgPath joins elem to $variable when it is set to an absolute path (the
// XDG spec says to ignore a relative one), else to ~/fallback; "" without a
// home directory.
func xdgPath(variable, fallback string, elem ...string) string {
	if base := os.Getenv(variable); filepath.IsAbs(base) {
		return filepath.Join(append([]string{base}, elem...)...)
	}
	home := homeDir()
	if home == "" {
		return ""
	}
	return filepath.Join(append([]string{home, fallback}, elem...)...)
}

// homeDir is $HOME, else the home directory in the user database, else "".
func homeDir() string {
	if home, err := os.UserHomeDir(); err == nil {
		return home
	}
	if u, err := user.Current(); err == nil {
		return u.HomeDir
	}
	return ""
}
