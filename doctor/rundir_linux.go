package doctor

import (
	"errors"
	"fmt"

	"github.com/nookenv/nook/internal/safefile"
	"github.com/nookenv/nook/runstate"
)

// checkRunState checks the run-state directory as every command that uses
// it does (SPEC §8a: a directory of the user's, mode 0700, not a link, in
// a parent nobody else can replace it in), without making it: a problem
// there stops every command with status 125.
func checkRunState(m *Machine) Result {
	res := Result{Name: "run state", Status: OK}
	exists, err := runstate.CheckRunDir(m.RunDir)
	var unsafe *safefile.UnsafeError
	switch {
	case errors.As(err, &unsafe):
		res.Status = Fail
		res.Summary = unsafe.Error() + ": every command refuses to use it"
		res.Or = []string{unsafe.Fix}
	case err != nil:
		res.Status = Fail
		res.Summary = err.Error()
	case exists:
		res.Summary = fmt.Sprintf("%s is yours, mode 0700", m.RunDir)
	default:
		res.Summary = fmt.Sprintf("%s will be made, mode 0700, by the first command that needs it", m.RunDir)
	}
	return res
}
