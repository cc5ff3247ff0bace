package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"settle/internal/flock"
)

// ErrLocked is wrapped by the error Lock returns when another run holds the date.
var ErrLocked = errors.New("locked by another run")

// LockedError says which run held a date's lock when Lock gave up.
type LockedError struct {
	Date   string
	Path   string        // the lock file
	Holder string        // "pid=… host=… since=…" as the holder wrote it, or "unknown holder"
	Waited time.Duration // how long Lock waited: its timeout
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("lock %s: held by %s (waited %s on %q): %v", e.Date, e.Holder, e.Waited, e.Path, ErrLocked)
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// pollInterval is how often a waiting Lock retries.
const pollInterval = 50 * time.Millisecond

// Lock takes the exclusive lock of date: flock(2) on <store>/<date>/.lock, into which the
// holder writes "pid=<pid> host=<host> since=<RFC3339 time>". When another process (or
// another *Store, or another Lock call) holds it, Lock calls waiting once with the holder's
// text and polls until timeout; then it returns a *LockedError wrapping ErrLocked that names
// the holder. timeout <= 0 tries once. A cancelled ctx stops the wait with ctx's error.
// The kernel drops the lock of a process that dies, so a killed run never blocks the next.
//
// Locks do not nest: a second Lock of a date held by this process waits like any other.
// unlock releases the lock; it may be called more than once.
func (s *Store) Lock(ctx context.Context, date string, timeout time.Duration, waiting func(holder string)) (unlock func() error, err error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dd, 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", date, err)
	}
	path := filepath.Join(dd, lockName)
	// No O_TRUNC: the file may hold the current holder's name.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", date, err)
	}
	start := time.Now()
	told := false
	for tries := 1; ; tries++ {
		err := flock.Flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s (%q): %w", date, path, err)
		}
		holder := readHolder(f)
		waited := time.Since(start)
		if waited >= timeout {
			f.Close()
			return nil, &LockedError{Date: date, Path: path, Holder: holderOrUnknown(holder), Waited: max(timeout, 0)}
		}
		// The holder writes its name just after it takes the lock: give it a few polls.
		if !told && waiting != nil && (holder != "" || tries >= 3) {
			waiting(holderOrUnknown(holder))
			told = true
		}
		t := time.NewTimer(min(pollInterval, timeout-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", date, ctx.Err())
		case <-t.C:
		}
	}
	if err := writeHolder(f); err != nil {
		f.Close() // closing the descriptor releases the lock
		return nil, fmt.Errorf("lock %s (%q): %w", date, path, err)
	}
	s.setLocked(date, true)
	var (
		mu   sync.Mutex
		done bool
	)
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return nil
		}
		done = true
		s.forgetKept(date) // no kept input is written once the lock is released
		s.setLocked(date, false)
		// Clear the name first: nobody holds the lock once it is released.
		terr := f.Truncate(0)
		uerr := flock.Flock(f, syscall.LOCK_UN)
		cerr := f.Close()
		if err := errors.Join(terr, uerr, cerr); err != nil {
			return fmt.Errorf("unlock %s (%q): %w", date, path, err)
		}
		return nil
	}, nil
}

func holderOrUnknown(h string) string {
	if h == "" {
		return "unknown holder"
	}
	return h
}

// readHolder reads the holder's line from the lock file (at most 512 bytes).
func readHolder(f *os.File) string {
	buf := make([]byte, 512)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return ""
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	return strings.TrimSpace(line)
}

// writeHolder replaces the lock file's content with this process's name.
func writeHolder(f *os.File) error {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	text := fmt.Sprintf("pid=%d host=%s since=%s\n", os.Getpid(), host, time.Now().Format(time.RFC3339))
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(text), 0); err != nil {
		return err
	}
	return nil
}
