package doctor

import (
	"context"
	"path/filepath"

	"github.com/nookenv/nook/env"
)

// Machine is what the checks look at. Local describes this machine; tests
// point Root at a tree of their own and replace the functions.
type Machine struct {
	// Root is the file system root the checks read: "/", or a directory
	// tree standing in for it (proc/sys, proc/self/cgroup,
	// proc/self/mountinfo, proc/PID/fd, sys/fs/cgroup, etc/subuid,
	// etc/subgid, dev/net/tun).
	Root string
	UID  int    // the user nook runs as
	Exe  string // nook's executable: the AppArmor profile names it

	LookPath  func(name string) (string, error)                           // finds a program: exec.LookPath
	FreeSpace func(dir string) (int64, error)                             // free bytes for this user on dir's file system
	Trial     func(dir string) error                                      // a real run through nook-init, in dir: rootless.Trial
	Ping      func(ctx context.Context, host string, insecure bool) error // a registry answers: layers.PingRegistry

	StoreDir   string // the store (env.StoreDir)
	RunDir     string // the run-state directory (env.RunDir)
	ConfigPath string // the user config (env.UserConfigPath); "" when there is none

	// Project is the project nook doctor runs in; nil outside one.
	Project *Project
	// Registries asks for the registries to be reached over the network:
	// those of the user config and the project's image. Without it nook
	// doctor touches no network.
	Registries bool
}

// Project is the project the checks look at.
type Project struct {
	File string   // its nook.toml
	Env  *env.Env // nil when nook.toml is not valid
	Err  error    // why it is not
}

// path is a path of the machine: name under Root.
func (m *Machine) path(name string) string { return filepath.Join(m.Root, name) }
