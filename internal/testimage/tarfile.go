package testimage

import (
	"archive/tar"
	"bytes"
	"time"
)

// Entry is one entry of a layer tar, written as given: names and link
// targets are not cleaned, so hostile entries can be expressed.
type Entry struct {
	Name     string
	Type     byte // tar.TypeReg when zero
	Mode     int64
	Body     []byte
	Linkname string
	Devmajor int64
	Devminor int64
	Xattrs   map[string]string
}

// File is a regular file entry with mode 0644.
func File(name, body string) Entry { return Entry{Name: name, Body: []byte(body), Mode: 0o644} }

// Dir is a directory entry with mode 0755.
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir, Mode: 0o755} }

// Symlink is a symbolic link entry.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Linkname: target, Mode: 0o777}
}

// Hardlink is a hard link entry.
func Hardlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeLink, Linkname: target, Mode: 0o644}
}

// Tar returns the uncompressed tar stream of entries.
func Tar(entries ...Entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{
			Name:     e.Name,
			Typeflag: typ,
			Mode:     e.Mode,
			Linkname: e.Linkname,
			Devmajor: e.Devmajor,
			Devminor: e.Devminor,
			ModTime:  mtime,
			Format:   tar.FormatPAX,
		}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if len(e.Xattrs) > 0 {
			hdr.PAXRecords = map[string]string{}
			for k, v := range e.Xattrs {
				hdr.PAXRecords["SCHILY.xattr."+k] = v
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			panic(err) // only reachable with a malformed Entry written by a test
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(e.Body); err != nil {
				panic(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
