package env

import (
	"errors"

	"github.com/nookenv/nook/internal/safefile"
)

// readInput reads an input file (nook.toml, an env_file, the user config)
// as SPEC §8a asks: a regular file (a symbolic link to one is fine) of at
// most safefile.MaxInput bytes, decided on the open descriptor so that a
// fifo or a device fails at once; TOML must also nest no deeper than
// safefile.MaxNesting, checked before the parser sees it. Those problems
// are an *Error naming file (as the user wrote it), with the line and
// column of the nesting; a file that cannot be opened is the
// *fs.PathError os.ReadFile would return.
func readInput(file, path string, isTOML bool) ([]byte, error) {
	data, err := safefile.ReadInput(path)
	var bad *safefile.InputError
	if errors.As(err, &bad) {
		return nil, &Error{File: file, Msg: bad.Problem, Fix: bad.Fix}
	}
	if err != nil {
		return nil, err
	}
	if isTOML {
		var deep *safefile.NestingError
		if errors.As(safefile.CheckTOML(data), &deep) {
			return nil, &Error{File: file, Line: deep.Line, Col: deep.Col, Msg: deep.Error(),
				Fix: "nook's files nest a few levels at most: is this the right file?"}
		}
	}
	return data, nil
}
