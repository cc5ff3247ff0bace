// Package flock takes flock(2) locks for the store and the page's shared files (a date's run
// lock, the sign-off log, the revoked-sessions file, the users file), retrying a call a
// signal interrupted.
package flock

import (
	"errors"
	"os"
	"syscall"
)

// Flock calls flock(2) on f with how (syscall.LOCK_EX, LOCK_UN, ...), retrying on EINTR.
func Flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// Locked calls fn holding an exclusive lock on path (created, mode 0600, if missing): a lock
// file beside the file it guards. The lock goes with the file's close.
func Locked(path string, fn func() error) error {
	lf, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lf.Close()
	if err := Flock(lf, syscall.LOCK_EX); err != nil {
		return err
	}
	return fn()
}
