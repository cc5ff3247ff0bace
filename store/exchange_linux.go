package store

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// exchange swaps the directories a and b in one step (renameat2 RENAME_EXCHANGE). It
// returns an error wrapping errors.ErrUnsupported where the kernel or file system cannot.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP):
		return &os.LinkError{Op: "exchange", Old: a, New: b, Err: errors.Join(err, errors.ErrUnsupported)}
	}
	return &os.LinkError{Op: "exchange", Old: a, New: b, Err: err}
}
