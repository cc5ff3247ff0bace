package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"settle/internal/flock"
)

// Holder is a date whose lock a process holds.
type Holder struct {
	Date   string
	Holder string // "pid=… host=… since=…" as the holder wrote it, or "unknown holder"
}

// Holders lists the dates whose lock (see Lock) a process holds now, oldest date first. It
// asks each <date>/.lock for a shared lock without waiting: a date whose lock cannot be had
// is held by a run; the shared lock is let go at once, and the file is neither created nor
// written.
func (s *Store) Holders() ([]Holder, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("lock holders of %q: %w", s.dir, err)
	}
	var out []Holder
	for _, e := range ents {
		if !e.IsDir() || checkDate(e.Name()) != nil {
			continue
		}
		path := filepath.Join(s.dir, e.Name(), lockName)
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("lock holders: %w", err)
		}
		err = flock.Flock(f, syscall.LOCK_SH|syscall.LOCK_NB)
		switch {
		case err == nil:
			flock.Flock(f, syscall.LOCK_UN)
		case errors.Is(err, syscall.EWOULDBLOCK):
			out = append(out, Holder{Date: e.Name(), Holder: holderOrUnknown(readHolder(f))})
		default:
			f.Close()
			return out, fmt.Errorf("lock holders: %q: %w", path, err)
		}
		f.Close()
	}
	return out, nil
}
