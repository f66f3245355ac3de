package runstate

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Owner names a process for as long as it lives: its pid and its start
// time in clock ticks since boot (field 22 of /proc/PID/stat). A pid the
// kernel reuses comes with another start time.
type Owner struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// Self is the calling process.
func Self() (Owner, error) {
	return ProcessOwner(os.Getpid())
}

// ProcessOwner reads the start time of process pid.
func ProcessOwner(pid int) (Owner, error) {
	start, err := startTime(pid)
	if err != nil {
		return Owner{}, err
	}
	return Owner{Pid: pid, Start: start}, nil
}

// Alive reports whether the process o names still runs: the pid exists,
// has the same start time, and is not a zombie.
func (o Owner) Alive() bool {
	if o.Pid <= 0 {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", o.Pid))
	if err != nil {
		return false
	}
	fields, err := statFields(data)
	if err != nil || fields[0] == "Z" || fields[0] == "X" {
		return false
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	return err == nil && start == o.Start
}

// startTime is field 22 (starttime) of /proc/PID/stat.
func startTime(pid int) (uint64, error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading the start time of process %d: %w", pid, err)
	}
	fields, err := statFields(data)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading %s: starttime %q: %w", path, fields[19], err)
	}
	return start, nil
}

// statFields are the fields of a /proc/PID/stat line after the command
// name, which is in parentheses and may itself hold spaces and ')': the
// first is the state (field 3).
func statFields(data []byte) ([]string, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil, fmt.Errorf("no command name in %q", data)
	}
	fields := bytes.Fields(data[i+1:])
	if len(fields) < 20 {
		return nil, fmt.Errorf("%d fields after the command name, want at least 20", len(fields))
	}
	out := make([]string, len(fields))
	for j, f := range fields {
		out[j] = string(f)
	}
	return out, nil
}
