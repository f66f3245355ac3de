package doctor

import (
	"fmt"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/rootless"
)

// checkIDMap checks what the full id map needs: subordinate ids and
// newuidmap/newgidmap. Only idmap = "full" in the user config needs them:
// without it their absence is no problem, but the fix is shown.
func checkIDMap(m *Machine, user *env.UserConfig) Result {
	res := Result{Name: "id map", Status: OK}
	uid, gid, r := rootless.FullMapRefusal(m.Root, m.LookPath)
	full := user != nil && user.IDMap == env.IDMapFull
	switch {
	case r == nil:
		res.Summary = fmt.Sprintf("subordinate ids %s (uid) and %s (gid), newuidmap and newgidmap: idmap = \"full\" works", idRange(uid), idRange(gid))
		if !full {
			res.Summary += " (the single-id map is in use)"
		}
	case full:
		res.Status, res.Summary = Fail, "idmap = \"full\" is set, but "+r.Problem
		res = res.fixedBy(*r)
	default:
		// Nothing to fix for the default map: the commands are for
		// idmap = "full", the other way is the default itself.
		res.Summary = "the single-id map (the default) needs nothing; for idmap = \"full\": " + r.Problem
		res.Fix, res.Keep = r.Fix, r.Keep
	}
	return res
}

func idRange(r rootless.IDRange) string {
	return fmt.Sprintf("%d-%d", r.Start, r.Start+r.Count-1)
}
