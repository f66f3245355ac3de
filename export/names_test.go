package export

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// A role on an environment of its own gets an image of its own, named
// after the exported one.
func TestOtherEnvironmentName(t *testing.T) {
	for _, c := range []struct{ base, key, want string }{
		{"nook.local/shop:0123456789ab", "db", "nook.local/shop-db:0123456789ab"},
		{"registry.example.com:5000/team/shop:v1", "Test_Server", "registry.example.com:5000/team/shop-test-server:v1"},
	} {
		base, err := name.NewTag(c.base)
		if err != nil {
			t.Fatal(err)
		}
		got, err := otherEnvironmentName(base, c.key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name() != c.want {
			t.Errorf("%s, %s: %s, want %s", c.base, c.key, got.Name(), c.want)
		}
	}
}
