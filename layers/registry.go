package layers

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Registry is the user's configuration of one registry host (SPEC §3).
type Registry struct {
	// Mirrors are tried in order before the registry itself, with the same
	// repository path: "127.0.0.1:5000" or "mirror.example.com/prefix".
	Mirrors []string
	// Insecure makes nook speak plain HTTP to the host. (Loopback hosts
	// such as localhost and 127.0.0.1 fall back to plain HTTP anyway.)
	Insecure bool
}

// registryConfig returns the configuration of a registry host, matching
// the config's keys as go-containerregistry normalises hosts ("docker.io"
// is "index.docker.io").
func registryConfig(regs map[string]Registry, host string) Registry {
	if r, ok := regs[host]; ok {
		return r
	}
	for k, r := range regs {
		if n, err := name.NewRegistry(k); err == nil && n.RegistryStr() == host {
			return r
		}
	}
	return Registry{}
}

// InsecureRegistry reports whether the user config marks host as a
// plain-HTTP registry.
func InsecureRegistry(regs map[string]Registry, host string) bool {
	return registryConfig(regs, host).Insecure
}

// candidates returns where to look for ref, in order: each configured
// mirror of its registry, then the registry itself; each marked insecure
// when its host is configured so.
func candidates(ref name.Reference, regs map[string]Registry) ([]name.Reference, error) {
	origin := ref.Context().Registry.RegistryStr()
	repo := ref.Context().RepositoryStr()
	var out []name.Reference
	for _, m := range registryConfig(regs, origin).Mirrors {
		host, prefix, _ := strings.Cut(strings.TrimSuffix(m, "/"), "/")
		r, err := at(host, path.Join(prefix, repo), ref.Identifier(), regs)
		if err != nil {
			return nil, &hintError{
				err:  fmt.Errorf("mirror %q of %s: %w", m, configName(origin), err),
				hint: fmt.Sprintf("write mirrors as HOST[:PORT][/PREFIX] in [registries.%q] of nook's config.toml", configName(origin)),
			}
		}
		out = append(out, r)
	}
	r, err := at(origin, repo, ref.Identifier(), regs)
	if err != nil {
		return nil, err
	}
	return append(out, r), nil
}

// at is the reference to repo:identifier (a tag or a digest) on host.
func at(host, repo, identifier string, regs map[string]Registry) (name.Reference, error) {
	var opts []name.Option
	if registryConfig(regs, host).Insecure {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return nil, err
	}
	if strings.Contains(identifier, ":") { // "sha256:…"
		return reg.Repo(repo).Digest(identifier), nil
	}
	return reg.Repo(repo).Tag(identifier), nil
}

// resolveRegistry finds the image of ref for platform: on each mirror in
// turn, then on the registry itself.
func (s *Store) resolveRegistry(ctx context.Context, ref Reference, opt PullOptions, platform v1.Platform) (v1.Image, v1.Descriptor, error) {
	cands, err := candidates(ref.Name, opt.Registries)
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	var tried []string
	for i, c := range cands {
		img, desc, err := s.remoteImage(ctx, c, opt, platform)
		if err == nil {
			return img, desc, nil
		}
		if ctx.Err() != nil {
			return nil, v1.Descriptor{}, ctx.Err()
		}
		var plat *PlatformError
		if errors.As(err, &plat) || i == len(cands)-1 {
			// The image has no variant for the platform, or nowhere left to look.
			return nil, v1.Descriptor{}, registryError(ref, c, err, tried)
		}
		tried = append(tried, fmt.Sprintf("mirror %s: %v", c.Context().RegistryStr(), err))
	}
	panic("unreachable: candidates always ends with the registry itself")
}

// remoteOptions are the options of every request nook makes to a
// registry: opt's keychain (else Docker's config and its helpers), and a
// transport that ends a request when the registry sends nothing for
// opt.StallTimeout (0: DefaultStallTimeout), then or later while a blob is
// read, with a *StallError.
func (s *Store) remoteOptions(ctx context.Context, opt PullOptions) []remote.Option {
	kc := opt.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	base := remote.DefaultTransport
	if s.transport != nil {
		base = s.transport
	}
	stall := opt.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	return []remote.Option{
		remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithUserAgent("nook"),
		remote.WithTransport(&stallTransport{base: base, timeout: stall}),
	}
}

// remoteImage fetches the manifest of ref from its registry and, for an
// index, the manifest of platform's image, with remoteOptions.
func (s *Store) remoteImage(ctx context.Context, ref name.Reference, opt PullOptions, platform v1.Platform) (v1.Image, v1.Descriptor, error) {
	opts := s.remoteOptions(ctx, opt)
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, v1.Descriptor{}, err
		}
		return imageFromIndex(ref.String(), idx, platform)
	}
	img, err := desc.Image()
	return img, desc.Descriptor, err
}

// imageFromIndex returns platform's image of an index, following nested
// indexes, and the descriptor the index gives for it.
func imageFromIndex(ref string, idx v1.ImageIndex, platform v1.Platform) (v1.Image, v1.Descriptor, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	d, err := pickManifest(ref, m, platform)
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	if d.MediaType.IsIndex() {
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, v1.Descriptor{}, err
		}
		return imageFromIndex(ref, child, platform)
	}
	img, err := idx.Image(d.Digest)
	return img, d, err
}

// configName is how the user config names a registry host.
func configName(host string) string {
	if host == name.DefaultRegistry {
		return "docker.io"
	}
	return host
}

// registryError is the error of a pull that found the image nowhere, with a
// hint chosen by what went wrong at the last place tried.
func registryError(ref Reference, last name.Reference, err error, tried []string) error {
	host := last.Context().RegistryStr()
	msg := fmt.Errorf("pulling %s: %w", ref, err)
	if len(tried) > 0 {
		msg = fmt.Errorf("%w (also tried %s)", msg, strings.Join(tried, "; "))
	}
	var he interface{ Hint() string }
	if errors.As(err, &he) {
		return &hintError{err: msg, hint: he.Hint()}
	}
	if hint := registryHint(err, configName(host)); hint != "" {
		return &hintError{err: msg, hint: hint}
	}
	return msg
}

// registryHint says how to fix a registry error, or "" when it is not known.
func registryHint(err error, host string) string {
	var terr *transport.Error
	if errors.As(err, &terr) {
		for _, d := range terr.Errors {
			switch d.Code {
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return fmt.Sprintf("if the image is private, log in with `docker login %s` (nook uses Docker's credentials); otherwise check the image name", host)
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
				return "check the image name and tag in nook.toml"
			case transport.TooManyRequestsErrorCode:
				return fmt.Sprintf("the registry limits pulls: log in with `docker login %s` or configure a mirror under [registries.%q] in nook's config.toml", host, host)
			}
		}
		switch terr.StatusCode {
		case 401, 403:
			return fmt.Sprintf("if the image is private, log in with `docker login %s` (nook uses Docker's credentials); otherwise check the image name", host)
		case 404:
			return "check the image name and tag in nook.toml"
		case 429:
			return fmt.Sprintf("the registry limits pulls: log in with `docker login %s` or configure a mirror under [registries.%q] in nook's config.toml", host, host)
		}
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Sprintf("%s speaks plain HTTP: set insecure = true under [registries.%q] in nook's config.toml", host, host)
	}
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	if errors.As(err, &uerr) || errors.As(err, &herr) {
		return fmt.Sprintf("the certificate of %s is not trusted here: add its CA to the system's trust store, or, for a plain-HTTP registry, set insecure = true under [registries.%q]", host, host)
	}
	var nerr net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(err, &dnsErr) || errors.As(err, &opErr) || errors.As(err, &nerr) {
		return fmt.Sprintf("check that %s is the right registry and that it is reachable, or configure a mirror: mirrors = [\"HOST:PORT\"] under [registries.%q] in nook's config.toml", host, host)
	}
	return ""
}
