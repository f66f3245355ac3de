//go:build linux

package layers

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzUnpack checks that whatever the bytes of a layer, Unpack changes
// nothing outside its directory, makes no device node but whiteouts, and
// leaves a directory that removeTree can remove.
//
// Each input is unpacked twice: as it is, and with the checksum of every tar
// header put right, so that mutations get past the header check and reach
// the unpacker.
func FuzzUnpack(f *testing.F) {
	h := newHostileHost(f, f.TempDir())
	for _, tc := range hostileCases(h) {
		f.Add(writeLayerTar(f, tc.entries...))
	}
	f.Add(writeLayerTar(f,
		dirEntry("./", 0o755), dirEntry("usr/", 0o755), dirEntry("usr/bin/", 0o555),
		regEntry("usr/bin/tool", "#!/bin/sh\n", 0o4755), symlinkEntry("bin", "usr/bin"),
		linkEntry("usr/bin/alias", "usr/bin/tool"), nodeEntry("run/fifo", tar.TypeFifo, 0, 0),
	))
	f.Add(writeLayerTar(f,
		dirEntry("etc/", 0o755), regEntry("etc/.wh.motd", "", 0o644), regEntry("var/cache/.wh..wh..opq", "", 0o644),
		withXattrs(regEntry("etc/f", "x", 0o600), "user.a", "1", "trusted.b", "2"), dirEntry("locked/", 0o000),
		regEntry("locked/f", "x", 0o644), regEntry("etc/.wh..wh.plnk", "", 0o644),
	))
	f.Add(writeLayerTar(f,
		regEntry("f", "one", 0o644), dirEntry("f/", 0o755), symlinkEntry("f", "/"), regEntry("f/g", "two", 0o644),
		regEntry("a/b/c", "deep", 0o644), dirEntry("a/", 0o700),
	))
	before := h.snapshot(f)

	f.Fuzz(func(t *testing.T, data []byte) {
		// A failed input may have left its layer behind; clear it so that
		// it does not fail the inputs the fuzzer tries while minimizing.
		leftovers, err := os.ReadDir(h.layers)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range leftovers {
			if err := removeTree(filepath.Join(h.layers, l.Name())); err != nil {
				t.Fatal(err)
			}
		}
		for _, stream := range [][]byte{data, repairTarChecksums(data)} {
			dir, err := os.MkdirTemp(h.layers, "fuzz")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Unpack(bytes.NewReader(stream), dir); err == nil {
				wantNoDevices(t, dir)
			}
			h.wantUntouched(t, before, dir)
		}
	})
}

// repairTarChecksums returns a copy of data in which each block that tar
// would read as a header carries a correct checksum. It follows the headers'
// size fields from block to block as a tar reader does.
func repairTarChecksums(data []byte) []byte {
	const block = 512
	out := bytes.Clone(data)
	for off := 0; off+block <= len(out); {
		hdr := out[off : off+block]
		if bytes.Count(hdr, []byte{0}) == block {
			off += block // end-of-archive (or padding) block
			continue
		}
		copy(hdr[148:156], "        ")
		sum := 0
		for _, b := range hdr {
			sum += int(b)
		}
		copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
		size, err := strconv.ParseInt(string(bytes.Trim(hdr[124:136], " \x00")), 8, 64)
		if err != nil || size < 0 || size > int64(len(out)) {
			size = 0
		}
		switch hdr[156] {
		case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
			size = 0 // tar ignores the size of entries without data
		}
		off += block + int((size+block-1)/block)*block
	}
	return out
}
