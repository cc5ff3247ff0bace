package store

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime is a file's status change time (ctime): unlike its modification time no tool can
// set it back, and a write, a chmod or a new link moves it on.
func changeTime(fi fs.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(st.Ctim.Sec, st.Ctim.Nsec), true
}
