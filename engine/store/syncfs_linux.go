package store

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// syncFS flushes the whole file system holding f (syncfs(2)): every dirty file and directory
// of it, with one journal commit and one device flush, instead of one of each per file. It
// reports writeback errors of the file system since f was opened only from Linux 5.8; on
// older kernels it returns an error wrapping errors.ErrUnsupported, and the caller fsyncs
// file by file.
func syncFS(f *os.File) error {
	if !syncfsReportsErrors() {
		return fmt.Errorf("syncfs: %w", errors.ErrUnsupported)
	}
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("syncfs: %w", errors.Join(err, errors.ErrUnsupported))
		}
		return fmt.Errorf("syncfs %q: %w", f.Name(), err)
	}
	return nil
}

var syncfsReportsErrors = sync.OnceValue(func() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 5 || major == 5 && minor >= 8
})
