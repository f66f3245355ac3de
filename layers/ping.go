package layers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// pingLimit bounds one PingRegistry.
const pingLimit = 5 * time.Second

// PingRegistry checks that host (HOST[:PORT], a registry or a mirror of
// the user config) answers the registry API as a pull would reach it: GET
// /v2/ over HTTPS, or plain HTTP when insecure is set or the host is a
// loopback one, through the environment's proxy. 200, or 401 asking for
// credentials, is an answer. transport nil is remote's default.
func PingRegistry(ctx context.Context, host string, insecure bool, transport http.RoundTripper) error {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return fmt.Errorf("registry %s: %w", host, err)
	}
	if transport == nil {
		transport = remote.DefaultTransport
	}
	ctx, cancel := context.WithTimeout(ctx, pingLimit)
	defer cancel()
	url := reg.Scheme() + "://" + reg.RegistryStr() + "/v2/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("reaching registry %s: %w", host, err)
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return fmt.Errorf("reaching registry %s: %w", host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("reaching registry %s: GET %s: %s", host, url, resp.Status)
	}
	return nil
}
