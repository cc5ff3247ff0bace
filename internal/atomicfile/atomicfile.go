// Package atomicfile writes a file so that a reader, or the machine after a crash, sees the
// old file or the new one whole, never a part: a temporary file in the same directory is
// written, given its mode, fsynced, put in place, and the directory is fsynced (as
// prometheus tsdb/fileutil does). Every settle file written this way goes through it; the
// run store has its own publication (store/run.go).
package atomicfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path, or creates it, with what write writes, with mode perm. On an error
// path is as it was and no temporary file is left.
func Write(path string, perm fs.FileMode, write func(io.Writer) error) error {
	return place(path, perm, write, os.Rename)
}

// Create is Write for a file that must not be replaced: when path exists, it is left as it
// is and the error wraps fs.ErrExist. Of two processes creating path at once, one wins and
// the other sees fs.ErrExist.
func Create(path string, perm fs.FileMode, write func(io.Writer) error) error {
	return place(path, perm, write, os.Link)
}

// place writes a temporary file and puts it at path with put (os.Rename or os.Link).
func place(path string, perm fs.FileMode, write func(io.Writer) error, put func(oldpath, newpath string) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a rename there is nothing left to remove
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := put(tmp.Name(), path); err != nil {
		return err
	}
	return Sync(dir)
}

// Sync fsyncs a file, or a directory so that a rename or link in it survives a crash.
func Sync(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	return nil
}
