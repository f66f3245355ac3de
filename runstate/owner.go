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
	_, start, err := procStat(pid)
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
	state, start, err := procStat(o.Pid)
	return err == nil && state != "Z" && state != "X" && start == o.Start
}

// procStat reads the state (field 3) and the start time (field 22,
// starttime) of process pid from /proc/PID/stat. The fields are counted
// after the command name, which is in parentheses and may itself hold
// spaces and ')'.
func procStat(pid int) (state string, start uint64, err error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", 0, fmt.Errorf("reading the start time of process %d: %w", pid, err)
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return "", 0, fmt.Errorf("reading %s: no command name in %q", path, data)
	}
	fields := bytes.Fields(data[i+1:])
	if len(fields) < 20 {
		return "", 0, fmt.Errorf("reading %s: %d fields after the command name, want at least 20", path, len(fields))
	}
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: starttime %q: %w", path, fields[19], err)
	}
	return string(fields[0]), start, nil
}
