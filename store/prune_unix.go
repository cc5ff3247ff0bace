//go:build unix

package store

import (
	"io/fs"
	"syscall"
)

// fileKey identifies a file across its hard links.
type fileKey struct{ dev, ino uint64 }

// fileIdentity returns the file's device and inode and its link count (st_nlink).
func fileIdentity(fi fs.FileInfo) (fileKey, uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, 0, false
	}
	return fileKey{uint64(st.Dev), uint64(st.Ino)}, uint64(st.Nlink), true //nolint:unconvert // widths differ by platform
}
