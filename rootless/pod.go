package rootless

import "net"

// PodOptions say where a project's pod keeps its state and how to make one.
type PodOptions struct {
	Dir      string // run-state directory of the project's pod: <RunDir>/pods/<project-id> (created 0700)
	Project  string // the project's id, recorded in pod.json
	Name     string // the project's name, shown by ps and in "port taken by" messages
	Outbound bool   // try slirp4netns for outbound traffic (false: loopback only, no notice)
	IDMap    IDMap  // the pod's user namespace: the single-id map, or the full range (a pod already running keeps its own)
}

// Pod is a connection to a project's pod, nook-pod: one process per
// project, in a user and network namespace of its own, that starts roles
// on request (Run) so that they share its network. The pod lives while a
// Pod is open or a role runs, and ends after the last of them.
type Pod struct {
	dir     string
	pid     int
	notice  string
	resolv  []byte
	control net.Conn // held open: it keeps the pod alive until Close
}

// Notice is non-empty when this Pod started the pod process and the pod
// has no outbound network (why, for the user); the CLI prints it once.
func (p *Pod) Notice() string { return p.notice }

// ResolvConf is what roles of this pod should get as /etc/resolv.conf
// (slirp4netns' DNS 10.0.2.3, or the host's file); plan the mounts with it
// before Run.
func (p *Pod) ResolvConf() []byte { return p.resolv }

// Pid is the pod process's pid.
func (p *Pod) Pid() int { return p.pid }

// Close lets the pod end once its roles have ended. Call it after the
// Pod's Runs have returned.
func (p *Pod) Close() error { return p.control.Close() }
