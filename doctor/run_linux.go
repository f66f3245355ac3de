package doctor

import (
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
	"github.com/nookenv/nook/rootless"
)

// Local is this machine as nook sees it: the real root, the user, the
// store and the user config in their places (SPEC §1). project is the
// project nook doctor runs in, or nil.
func Local(project *Project, registries bool) *Machine {
	exe, _ := os.Executable()
	return &Machine{
		Root:       "/",
		UID:        os.Getuid(),
		Exe:        exe,
		LookPath:   exec.LookPath,
		FreeSpace:  freeSpace,
		Trial:      rootless.Trial,
		Ping:       pingRegistry,
		StoreDir:   env.StoreDir(),
		RunDir:     env.RunDir(),
		ConfigPath: env.UserConfigPath(),
		Project:    project,
		Registries: registries,
	}
}

// Run runs every check on m, in the order they are shown.
func Run(m *Machine) *Report {
	r := &Report{}
	add := func(res ...Result) { r.Checks = append(r.Checks, res...) }
	user, config := checkConfig(m)
	userns, trial := checkNamespaces(m)
	add(checkKernel(m), userns, trial, checkIDMap(m, user), checkOutbound(m), checkPorts(m),
		checkInotify(m), checkCgroups(m), checkRunState(m), checkStore(m), config)
	if m.Registries {
		add(checkRegistries(m, user)...)
	}
	if m.Project != nil {
		add(checkProject(m, user)...)
	}
	return r
}

// freeSpace is the space an ordinary user may still fill on dir's file
// system.
func freeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// existing is dir, or its nearest ancestor that exists.
func existing(dir string) string {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			return d
		}
	}
}

// openStore opens the store when it exists; nil when nook has made none
// yet (doctor makes nothing).
func openStore(m *Machine) *layers.Store {
	if _, err := os.Stat(m.StoreDir); err != nil {
		return nil
	}
	s, err := layers.OpenStore(m.StoreDir)
	if err != nil {
		return nil
	}
	return s
}
