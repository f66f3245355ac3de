package rootless

import (
	"fmt"

	"github.com/nookenv/nook/mounts"
)

// applyPlan builds the role's root from plan and pivots into it; a nil
// plan leaves the init on the host's root.
func applyPlan(plan *mounts.Plan) error {
	if plan == nil {
		return nil
	}
	if err := plan.Apply(); err != nil {
		return fmt.Errorf("building the role's root: %w", err)
	}
	return nil
}
