// Package keyfile writes key files so that processes sharing a directory
// never see half a file nor overwrite a key someone may have pinned.
package keyfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// CreateOnce writes data to path unless path exists, reporting whether it
// wrote. The file appears complete or not at all (written aside, then
// hard-linked into place, which fails if path exists), so two servers
// starting on one data dir never read a half-written key or overwrite each
// other's.
func CreateOnce(path string, data []byte, perm fs.FileMode) (bool, error) {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// WriteIfChanged makes path hold data, replacing it atomically if it holds
// anything else.
func WriteIfChanged(path string, data []byte, perm fs.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeTemp writes data to a new file beside path and returns its name.
func writeTemp(path string, data []byte, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", err
	}
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
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
