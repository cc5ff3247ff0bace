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
	return kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 5, 8)
})

// kernelAtLeast reports whether a kernel release string ("6.1.0-13-amd64") is major.minor or
// later; a release it cannot read is not.
func kernelAtLeast(release string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(release, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// hasBytes reports whether the regular file e of the folder dir (open, or nil) has bytes: by
// its name in dir (fstatat, no walk of the folder's path for each of a kept-inputs folder's
// ~20,000 files), or by its path when dir is nil.
func hasBytes(dir *os.File, e os.DirEntry) bool {
	if dir == nil {
		return entryHasBytes(e)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(int(dir.Fd()), e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size > 0
}
