package layers

import (
	"os"
	"path/filepath"
)

// writeFileAtomic writes data to path with mode perm atomically: a
// temporary file in the same directory, synced, then renamed over path. A
// reader sees the old file or the new one, never a part, and an
// interrupted write leaves no partial file behind. The error names what
// failed but not path: callers say what they were writing.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
