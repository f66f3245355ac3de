package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookenv/nook/project"
	"github.com/nookenv/nook/runstate"
)

// portPoll is how often nook stop looks again whether a port is free.
const portPoll = 50 * time.Millisecond

// stopWaitLimit bounds how long nook stop waits for a process to end (its
// grace period included) or a port to be let go.
const stopWaitLimit = 2 * time.Minute

func newStopCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "stop [ROLE...]",
		Short: "Stop the project's running roles (all, or those named)",
		Long: "Stop roles of the project run by nook up (-d) or nook run: every one, or those\n" +
			"named. Each gets SIGTERM and, after its grace period (NOOK_STOP_TIMEOUT of the\n" +
			"nook that runs it, default 10s), SIGKILL. nook stop returns\n" +
			"once their processes are gone and their published ports are free. Stopped roles\n" +
			"of nook up are not restarted; nook up ends when its last role has stopped.",
		ValidArgsFunction: completeRoles(g, true),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := openProject(g)
			if err != nil {
				return err
			}
			for _, n := range args {
				if _, err := p.Role(n); err != nil {
					return err
				}
			}
			proj, err := project.OpenRunState(p.Env)
			if err != nil {
				return err
			}
			return stopRoles(proj, args)
		},
	}
}

// stopRoles stops the named roles of proj, or every one, and waits until
// their processes and ports are gone.
func stopRoles(proj *runstate.Project, names []string) error {
	sup, err := proj.Supervisor()
	if err != nil {
		return err
	}
	records, err := proj.Roles()
	if err != nil {
		return err
	}
	want := func(role string) bool { return len(names) == 0 || slices.Contains(names, role) }
	var owners []stopOwner // processes to signal and wait for
	var upRoles []string   // roles to ask nook up to stop
	var ports []string
	found := map[string]bool{}
	for _, r := range records {
		if !runstate.Active(r.State) || !want(r.Role) {
			continue
		}
		found[r.Role] = true
		ports = append(ports, r.Ports...)
		switch {
		case r.Via == "run":
			owners = append(owners, stopOwner{owner: r.Owner, grace: r.Grace})
		case r.Via == "watch":
			// nook watch would only start it again: it ends, with its roles.
			fmt.Fprintf(os.Stderr, "nook: stop: %s runs under nook watch (pid %d): stopping that nook watch\n", r.Role, r.Owner.Pid)
			if !slices.ContainsFunc(owners, func(o stopOwner) bool { return o.owner == r.Owner }) {
				owners = append(owners, stopOwner{owner: r.Owner, grace: r.Grace})
			}
		case sup != nil && r.Owner == sup.Owner:
			upRoles = append(upRoles, r.Role)
		}
	}
	if sup != nil && len(names) == 0 {
		owners = append(owners, stopOwner{owner: sup.Owner}) // all of it: nook up ends
		upRoles = nil
	}
	for _, n := range names {
		if !found[n] {
			fmt.Fprintf(os.Stderr, "nook: stop: %s is not running\n", n)
		}
	}
	if len(owners) == 0 && len(upRoles) == 0 {
		if len(names) == 0 {
			fmt.Fprintln(os.Stderr, "nook: stop: nothing is running")
		}
		return nil
	}
	var errs []error
	if len(upRoles) > 0 {
		if err := project.ControlStop(sup.Control, upRoles); err != nil {
			errs = append(errs, err)
		}
	}
	// Each owner applies its grace period to its role: signal them all
	// at once, so that their grace periods run side by side.
	results := make(chan error, len(owners))
	for _, o := range owners {
		go func() { results <- terminate(o.owner, o.grace) }()
	}
	for range owners {
		if err := <-results; err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range ports {
		if err := waitPortFree(p); err != nil {
			errs = append(errs, err)
		}
	}
	if len(names) == 0 {
		// With its last role gone, the pod ends on its own: wait for it,
		// so that nothing of the project is left when stop returns.
		if pod := project.ReadPodFile(project.PodDir(proj.ID)); pod != nil && len(pod.Roles) == 0 {
			waitEnd(runstate.Owner{Pid: pod.Pid, Start: pod.Start}, podEndLimit)
		}
	}
	return errors.Join(errs...)
}

// stopOwner is a nook process to ask to stop its role, and the grace
// period it gives the role (zero: unknown).
type stopOwner struct {
	owner runstate.Owner
	grace time.Duration
}

// podEndLimit bounds the wait for a pod without roles to end.
const podEndLimit = 10 * time.Second

// waitPortFree waits until a published port, as nook.toml writes it
// ([HOST_IP:]HOST_PORT:ROLE_PORT/PROTO), can be bound again.
func waitPortFree(port string) error {
	hostIP, hostPort, proto, ok := parseHostSide(port)
	if !ok {
		return nil
	}
	addr := net.JoinHostPort(hostIP, hostPort)
	deadline := time.Now().Add(stopWaitLimit)
	for {
		var err error
		if proto == "udp" {
			var c net.PacketConn
			if c, err = net.ListenPacket("udp", addr); err == nil {
				c.Close()
			}
		} else {
			var l net.Listener
			if l, err = net.Listen("tcp", addr); err == nil {
				l.Close()
			}
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("port %s is still taken %v after its role stopped: %w", port, stopWaitLimit, err)
		}
		time.Sleep(portPoll) // nothing to wait on for another process's socket
	}
}

// parseHostSide splits "[HOST_IP:]HOST_PORT:ROLE_PORT/PROTO" (an IPv6
// HOST_IP in brackets) into its host address, port and protocol.
func parseHostSide(s string) (hostIP, hostPort, proto string, ok bool) {
	rest, proto, found := cutLast(s, "/")
	if !found {
		return "", "", "", false
	}
	rest, _, found = cutLast(rest, ":") // the role port
	if !found {
		return "", "", "", false
	}
	hostIP, hostPort, found = cutLast(rest, ":")
	if !found {
		hostIP, hostPort = "", rest
	}
	if len(hostIP) > 1 && hostIP[0] == '[' {
		hostIP = hostIP[1 : len(hostIP)-1]
	}
	if _, err := strconv.Atoi(hostPort); err != nil {
		return "", "", "", false
	}
	return hostIP, hostPort, proto, true
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
