package safefile

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// MaxInput bounds an input file: nook.toml, nook.lock, an env_file, the
// user config. Real ones are a few kilobytes.
const MaxInput = 1 << 20

// InputError is an input file nook does not read: not a regular file, or
// larger than MaxInput. It has no position.
type InputError struct {
	Path    string
	Problem string // "is a named pipe (fifo), not a regular file"
	Fix     string
}

// Error names the file and what is wrong with it.
func (e *InputError) Error() string { return e.Path + ": " + e.Problem }

// Hint says how to fix it.
func (e *InputError) Hint() string { return e.Fix }

// ReadInput reads an input file. A symbolic link to a regular file is
// followed (a project may link its nook.toml); anything but a regular file
// is an *InputError, decided on the open descriptor: the file is opened
// with O_NONBLOCK, so that a fifo cannot hang the open, and a device or a
// directory is never read. Reading stops after MaxInput bytes, also for a
// file that grows or reports no size (/proc). Errors opening the file are
// *fs.PathError, as os.ReadFile returns them.
func ReadInput(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, &InputError{Path: path, Problem: "is " + kindName(uint32(st.Mode)) + ", not a regular file",
			Fix: "nook reads only a regular file here (or a symbolic link to one)"}
	}
	if st.Size > MaxInput {
		return nil, tooLarge(path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > MaxInput {
		return nil, tooLarge(path)
	}
	return data, nil
}

func tooLarge(path string) error {
	return &InputError{Path: path, Problem: fmt.Sprintf("is larger than %d MiB", MaxInput>>20),
		Fix: "nook's input files are a few kilobytes: is this the right file?"}
}
