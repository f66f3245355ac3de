package layers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

func TestPingRegistry(t *testing.T) {
	reg := httptest.NewServer(registry.New())
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	if err := PingRegistry(context.Background(), host, true, nil); err != nil {
		t.Errorf("ping of a registry: %v", err)
	}
	// 127.0.0.1 is spoken to over plain HTTP even when not marked insecure.
	if err := PingRegistry(context.Background(), host, false, nil); err != nil {
		t.Errorf("ping of a loopback registry not marked insecure: %v", err)
	}

	notRegistry := httptest.NewServer(http.NotFoundHandler())
	defer notRegistry.Close()
	err := PingRegistry(context.Background(), strings.TrimPrefix(notRegistry.URL, "http://"), true, nil)
	if err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("ping of a server that is not a registry: %v", err)
	}

	reg.Close() // nothing listens there now
	if err := PingRegistry(context.Background(), host, true, nil); err == nil || !strings.Contains(err.Error(), "reaching registry "+host) {
		t.Errorf("ping of a closed port: %v", err)
	}
}
