package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// checkConfig reads the user config as every nook command does, and
// returns it for the checks that depend on it (nil when it is invalid).
func checkConfig(m *Machine) (*env.UserConfig, Result) {
	res := Result{Name: "user config", Status: OK}
	if m.ConfigPath == "" {
		res.Summary = "none: no home directory to keep one in (the defaults apply)"
		return &env.UserConfig{IDMap: env.IDMapSingle}, res
	}
	if _, err := os.Stat(m.ConfigPath); errors.Is(err, fs.ErrNotExist) {
		res.Summary = m.ConfigPath + ": none (the defaults: the single-id map, registries reached directly)"
		return &env.UserConfig{IDMap: env.IDMapSingle}, res
	}
	u, err := env.LoadUserConfig(m.ConfigPath)
	if err != nil {
		first, rest := firstLine(err.Error())
		res.Status, res.Summary = Fail, first
		res.Or = append(append(rest, hintLines(err)...), "every nook command reads this file: correct it, or move it away to use the defaults")
		return nil, res
	}
	var regs []string
	var insecure []string
	for _, host := range sortedHosts(u.Registries) {
		r := u.Registries[host]
		desc := host
		var notes []string
		if len(r.Mirrors) > 0 {
			notes = append(notes, "mirrors "+joinList(r.Mirrors))
		}
		if r.Insecure {
			notes = append(notes, "plain HTTP")
			if !loopback(host) {
				insecure = append(insecure, host)
			}
		}
		if len(notes) > 0 {
			desc += " (" + strings.Join(notes, "; ") + ")"
		}
		regs = append(regs, desc)
	}
	res.Summary = fmt.Sprintf("%s: idmap = %q", m.ConfigPath, u.IDMap)
	if len(regs) > 0 {
		res.Summary += "; registries " + joinList(regs)
		if !m.Registries {
			res.Summary += " (nook doctor --registries checks that they answer)"
		}
	}
	if len(insecure) > 0 {
		res.Status = Warn
		res.Summary += fmt.Sprintf("; %s spoken to over plain HTTP from beyond this host: anyone on the way can alter what you pull", plural("registry", insecure))
		res.Or = []string{"serve it over HTTPS and drop insecure = true (a registry on this host's loopback is fine as it is)"}
	}
	return u, res
}

// checkRegistries reaches every registry and mirror of the user config
// and the registry of the project's image, one result each.
func checkRegistries(m *Machine, u *env.UserConfig) []Result {
	insecure := map[string]bool{}
	var hosts []string
	seen := map[string]bool{}
	add := func(h string) {
		// docker.io and index.docker.io are one registry: reach it once.
		key := h
		if r, err := name.NewRegistry(h); err == nil {
			key = r.RegistryStr()
		}
		if !seen[key] {
			seen[key] = true
			hosts = append(hosts, h)
		}
	}
	if u != nil {
		for _, host := range sortedHosts(u.Registries) {
			r := u.Registries[host]
			add(host)
			insecure[host] = r.Insecure
			for _, mirror := range r.Mirrors {
				h, _, _ := strings.Cut(mirror, "/")
				add(h)
				insecure[h] = u.Registries[h].Insecure
			}
		}
	}
	if p := m.Project; p != nil && p.Env != nil {
		if r, err := layers.ParseReference(p.Env.Image); err == nil && r.Kind == layers.KindRegistry {
			add(r.Name.Context().RegistryStr())
		}
	}
	out := make([]Result, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := Result{Name: "registry " + h, Status: OK, Summary: "answers"}
			if err := m.Ping(context.Background(), h, insecure[h]); err != nil {
				res.Status, res.Summary = Warn, err.Error()+": pulls from it fail"
				res.Or = []string{"check the name, your network and HTTPS_PROXY; or give a mirror in [registries.\"" + h + "\"] of " + m.ConfigPath}
			}
			out[i] = res
		}()
	}
	wg.Wait()
	return out
}

// pingRegistry reaches a registry as pulls do.
func pingRegistry(ctx context.Context, host string, insecure bool) error {
	return layers.PingRegistry(ctx, host, insecure, nil)
}

func sortedHosts(m map[string]env.Registry) []string {
	out := make([]string, 0, len(m))
	for h := range m {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// loopback reports whether a registry host is on this host's loopback.
func loopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
