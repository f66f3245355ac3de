//go:build !linux

package doctor

import "runtime"

// Local is this machine; nook runs roles on Linux only.
func Local(project *Project, registries bool) *Machine {
	return &Machine{Root: "/", Project: project, Registries: registries}
}

// Run says that nook needs Linux.
func Run(m *Machine) *Report {
	return &Report{Checks: []Result{{Name: "kernel", Status: Fail,
		Summary: "this is " + runtime.GOOS + ": nook runs roles in Linux namespaces only",
		Or:      []string{"run nook on Linux, or in a Linux virtual machine"}}}}
}
