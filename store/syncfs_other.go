//go:build !linux

package store

import (
	"errors"
	"os"
)

// syncFS is not available here: Publish fsyncs the run file by file.
func syncFS(*os.File) error { return errors.ErrUnsupported }
