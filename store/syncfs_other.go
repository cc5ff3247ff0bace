//go:build !linux

package store

import (
	"errors"
	"os"
)

// syncFS is not available here: Publish fsyncs the run file by file.
func syncFS(*os.File) error { return errors.ErrUnsupported }

// hasBytes reports whether the regular file e (of a folder, unused here) has bytes.
func hasBytes(_ *os.File, e os.DirEntry) bool { return entryHasBytes(e) }
