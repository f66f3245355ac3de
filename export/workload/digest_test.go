package workload

import (
	"testing"

	"github.com/nookenv/nook/internal/companion"
)

// The build id's digest is a constant: it must change with the messages.
func TestProtocolDigest(t *testing.T) {
	if d := companion.Digest(Request{}, Reply{}); d != ProtocolDigest {
		t.Errorf("the messages between nook and nook-manifests changed: set ProtocolDigest in export/workload/workload.go to %q", d)
	}
}
