package layers

import (
	"fmt"
	"os"
	"path/filepath"
)

// hostPath is the default PATH of the host base: the host's own image has no
// config to take one from.
const hostPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// hostSkipped are the top-level entries of the host's root that a run does
// not take from the host: the kernel's views and per-boot state, which nook
// provides fresh (/proc, /dev, /tmp) or leaves out.
var hostSkipped = map[string]bool{
	"proc": true, "sys": true, "dev": true, "tmp": true, "run": true, "lost+found": true,
}

// hostSnapshot returns the snapshot of the "host" base read from root (the
// host's "/"): its top-level entries by name, with symbolic link targets.
func hostSnapshot(root string) (*Snapshot, error) {
	des, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("listing host root %s: %w", root, err)
	}
	var entries []HostEntry
	for _, de := range des {
		if hostSkipped[de.Name()] {
			continue
		}
		e := HostEntry{Name: de.Name(), Dir: de.IsDir()}
		if de.Type()&os.ModeSymlink != 0 {
			target, err := os.Readlink(filepath.Join(root, de.Name()))
			if err != nil {
				return nil, fmt.Errorf("reading host root entry: %w", err)
			}
			e.Symlink = target
		}
		entries = append(entries, e)
	}
	return &Snapshot{
		Ref:         hostRef,
		Host:        true,
		HostEntries: entries,
		Config:      ImageConfig{Env: []string{hostPath}},
	}, nil
}
