// Package writeback starts the writing out of a file's dirty pages early.
package writeback

import (
	"os"

	"golang.org/x/sys/unix"
)

// Start asks the kernel to start writing f's dirty pages out now (sync_file_range(2),
// SYNC_FILE_RANGE_WRITE: it does not wait for them), so that a later syncfs or fsync (a run's
// publication) finds little left to write. Only a hint: an error shows again at that sync.
func Start(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
