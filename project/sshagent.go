package project

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/nookenv/nook/env"
)

// authSockVar names the ssh-agent's socket, on the host and in a role.
const authSockVar = "SSH_AUTH_SOCK"

// withSSHAgent is r with the host's ssh-agent socket (SSH_AUTH_SOCK)
// mounted at the same path inside, where the role's SSH_AUTH_SOCK points,
// when r asks for it (ssh_agent = true); r itself otherwise. A role that
// asks for it where no agent runs is an error that says how to start one.
func withSSHAgent(r *env.Role) (*env.Role, error) {
	if !r.SSHAgent {
		return r, nil
	}
	sock := os.Getenv(authSockVar)
	if sock == "" {
		return nil, sshAgentError{role: r.Name, msg: "SSH_AUTH_SOCK is not set: no ssh-agent runs for you here"}
	}
	sock = filepath.Clean(sock)
	if !filepath.IsAbs(sock) {
		return nil, sshAgentError{role: r.Name, msg: fmt.Sprintf("SSH_AUTH_SOCK=%s is not an absolute path", sock)}
	}
	fi, err := os.Stat(sock)
	if err != nil {
		return nil, sshAgentError{role: r.Name, msg: fmt.Sprintf("the ssh-agent socket SSH_AUTH_SOCK=%s: %v", sock, err)}
	}
	if fi.Mode().Type() != os.ModeSocket {
		return nil, sshAgentError{role: r.Name, msg: fmt.Sprintf("SSH_AUTH_SOCK=%s is not a socket", sock)}
	}
	out := *r
	out.Mounts = append(slices.Clip(r.Mounts), env.Mount{Source: sock, Target: sock})
	out.Vars = append(slices.Clip(r.Vars), authSockVar+"="+sock)
	return &out, nil
}

// sshAgentError is a role with ssh_agent = true where no agent can be
// reached.
type sshAgentError struct{ role, msg string }

func (e sshAgentError) Error() string {
	return fmt.Sprintf("role %s: ssh_agent = true, but %s", e.role, e.msg)
}

func (e sshAgentError) Hint() string {
	return "start an agent and add your key: eval \"$(ssh-agent)\" && ssh-add; or drop ssh_agent from the role"
}
