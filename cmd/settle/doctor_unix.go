//go:build unix

package main

import "golang.org/x/sys/unix"

// freeSpace is the bytes an unprivileged user may still write on dir's file system.
func freeSpace(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil //nolint:unconvert // Bsize's type differs by platform
}

// canWrite says whether this process may create entries in dir (access(2) W_OK|X_OK).
func canWrite(dir string) error { return unix.Access(dir, unix.W_OK|unix.X_OK) }
