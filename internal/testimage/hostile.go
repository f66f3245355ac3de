package testimage

import (
	"archive/tar"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Hostile returns images whose layers try to reach outside the store, by
// name. outside is an absolute host path the layers aim at; a safe unpacker
// leaves it untouched. Each image has the busybox layers below the hostile
// one, so a contained escape still runs.
func Hostile(outside string) (map[string]v1.Image, error) {
	attacks := map[string][][]byte{
		// ../ in an entry name climbs out of the layer directory.
		"traversal": {Tar(Dir("x"), File("x/../../../../../../../.."+outside+"/traversal", "pwned\n"))},
		// An absolute entry name.
		"absolute": {Tar(File(outside+"/absolute", "pwned\n"))},
		// A symlink to the host directory in one layer, a file through it in the next.
		"symlink-across-layers": {
			Tar(Symlink("escape", outside)),
			Tar(Dir("escape"), File("escape/symlink", "pwned\n")),
		},
		// A symlink to the host directory and a file through it in the same layer.
		"symlink-same-layer": {Tar(Symlink("escape", outside), File("escape/symlink", "pwned\n"))},
		// A hard link to a host file, then a write to it.
		"hardlink": {Tar(Hardlink("passwd", outside+"/secret"), File("passwd", "pwned\n"))},
		// A device node (the host's disk): skipped, never created.
		"device": {Tar(Entry{Name: "disk", Type: tar.TypeBlock, Mode: 0o666, Devmajor: 8, Devminor: 0})},
	}
	base, err := BusyboxLayers()
	if err != nil {
		return nil, err
	}
	images := map[string]v1.Image{}
	for name, layers := range attacks {
		img, err := Image(append(base[:1:1], layers...)...)
		if err != nil {
			return nil, fmt.Errorf("making hostile image %s: %w", name, err)
		}
		images[name] = img
	}
	return images, nil
}
