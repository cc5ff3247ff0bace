package store

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// TestReplaceKeepsCurrentWhole: while a rerun of the same id (SOURCE_DATE_EPOCH) replaces a
// published run, a reader following `current` always finds a whole run there, never a gap
// between moving the old run aside and renaming the new one into place (a kill in that gap
// would leave `current` dangling until the next run).
func TestReplaceKeepsCurrentWhole(t *testing.T) {
	s := lockedStore(t)
	a, b := t.TempDir(), t.TempDir()
	if err := exchange(a, b); errors.Is(err, errors.ErrUnsupported) {
		if os.Getenv("CI") != "" {
			t.Fatalf("this file system cannot exchange directories: %v", err)
		}
		t.Skipf("this file system cannot exchange directories: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	// 300 publishes: what this test is about is the switch, not durability, so the
	// whole-file-system sync (seconds on a busy disk) is left out.
	syncWhole = func(*os.File) error { return nil }
	t.Cleanup(func() { syncWhole = syncFS })
	writeRun(t, s, "r1", map[string]string{"a.csv": "0\n"})
	link := filepath.Join(s.Dir(), testDate, "current")
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		reads   atomic.Int64
		missing atomic.Int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			reads.Add(1)
			if _, err := os.Stat(filepath.Join(link, "a.csv")); err != nil {
				missing.Add(1)
			}
		}
	}()
	for i := range 300 {
		writeRun(t, s, "r1", map[string]string{"a.csv": string(rune('0'+i%10)) + "\n"})
	}
	stop.Store(true)
	wg.Wait()
	if n := missing.Load(); n > 0 {
		t.Errorf("%d of %d reads through current found no run while a rerun replaced it", n, reads.Load())
	}
	if got := entries(t, filepath.Join(s.Dir(), testDate, "runs")); !slices.Equal(got, []string{"r1"}) {
		t.Errorf("runs = %q, want only r1", got)
	}
}

// TestReplaceWithoutExchange: where directories cannot be exchanged, a rerun of the same id
// still replaces the run (moving it aside first) and leaves nothing behind.
func TestReplaceWithoutExchange(t *testing.T) {
	exchangeDirs = func(a, b string) error {
		return &os.LinkError{Op: "exchange", Old: a, New: b, Err: errors.ErrUnsupported}
	}
	t.Cleanup(func() { exchangeDirs = exchange })
	s := lockedStore(t)
	writeRun(t, s, "r1", map[string]string{"a.csv": "old\n", "gone.csv": "x"})
	writeRun(t, s, "r1", map[string]string{"a.csv": "new\n"})
	runs := filepath.Join(s.Dir(), testDate, "runs")
	if got := entries(t, runs); !slices.Equal(got, []string{"r1"}) {
		t.Errorf("runs = %q, want only r1", got)
	}
	dir, ok, err := s.Current(testDate)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"a.csv"}) {
		t.Errorf("r1 holds %q, want the new run's a.csv", got)
	}
	if got := readFile(t, filepath.Join(dir, "a.csv")); got != "new\n" {
		t.Errorf("a.csv = %q", got)
	}
}
