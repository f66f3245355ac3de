package env

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/BurntSushi/toml"
)

// ID mapping modes of the user config's idmap key.
const (
	IDMapSingle = "single" // one id: you outside are root inside (the default)
	IDMapFull   = "full"   // the user's subordinate id range too, via newuidmap/newgidmap
)

// UserConfig is the user's config.toml (SPEC §3).
type UserConfig struct {
	Registries map[string]Registry // by registry host, e.g. "docker.io" or "127.0.0.1:5000"
	IDMap      string              // IDMapSingle or IDMapFull
}

// Registry is how to reach one registry.
type Registry struct {
	Mirrors  []string // hosts tried in order before the registry itself
	Insecure bool     // plain HTTP
}

var (
	userConfigKeys = []string{"registries", "idmap"}
	registryKeys   = []string{"mirrors", "insecure"}
)

// LoadUserConfig reads the user config at path. A missing file (or an empty
// path) is an empty config, not an error. Problems are reported like Load's:
// every one, with file:line:col.
func LoadUserConfig(path string) (*UserConfig, error) {
	u := &UserConfig{Registries: map[string]Registry{}, IDMap: IDMapSingle}
	if path == "" {
		return u, nil
	}
	data, err := readInput(path, path, true)
	var bad *Error
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return u, nil
	case errors.As(err, &bad):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("reading the user config: %w", err)
	}
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, syntaxError(path, string(data), err)
	}
	errs := &errorList{first: path}
	d := &decoder{file: path, pos: scanPositions(string(data)), errs: errs}
	for _, k := range sortedKeys(doc) {
		key := []string{k}
		switch k {
		case "idmap":
			if s := d.enum(key, doc[k], IDMapSingle, IDMapFull); s != "" {
				u.IDMap = s
			}
		case "registries":
			u.Registries = d.registries(key, doc[k])
		default:
			d.unknownKey(key, userConfigKeys)
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return u, nil
}

// registries decodes [registries."HOST"] tables.
func (d *decoder) registries(key []string, v any) map[string]Registry {
	out := map[string]Registry{}
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(key, `write [registries."docker.io"]`, "expected a table of registries, found %s", typeName(v))
		return out
	}
	for _, host := range sortedKeys(m) {
		k := child(key, host)
		if err := checkRegistryHost(host); err != nil {
			d.failSpec(k, -1, err)
		}
		t, ok := d.table(k, m[host], registryKeys)
		if !ok {
			continue
		}
		var r Registry
		if v, ok := t["mirrors"]; ok {
			mk := child(k, "mirrors")
			r.Mirrors = d.stringList(mk, v, func(i int, s string) bool {
				if err := checkRegistryHost(s); err != nil {
					d.failSpec(mk, i, err)
					return false
				}
				return true
			})
		}
		if v, ok := t["insecure"]; ok {
			r.Insecure, _ = d.boolean(child(k, "insecure"), v)
		}
		out[host] = r
	}
	return out
}

// checkRegistryHost checks a registry written as HOST[:PORT].
func checkRegistryHost(s string) error {
	if strings.Contains(s, "://") {
		return badSpec("write the host only; set insecure = true for plain HTTP", "%q is not a registry host: it has a URL scheme", s)
	}
	if u, err := url.Parse("//" + s); s == "" || err != nil || u.Host != s {
		return badSpec(`e.g. "mirror.gcr.io" or "127.0.0.1:5000"`, "%q is not a registry host; expected HOST[:PORT]", s)
	}
	return nil
}
