package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPublishSyncsTheFileSystem: Publish makes the run durable with one whole-file-system
// sync of the file system the run is on (on Linux 5.8+), not a flush per file.
func TestPublishSyncsTheFileSystem(t *testing.T) {
	var synced []string
	syncWhole = func(f *os.File) error {
		synced = append(synced, f.Name())
		return syncFS(f)
	}
	t.Cleanup(func() { syncWhole = syncFS })
	s := lockedStore(t)
	writeRun(t, s, "r1", map[string]string{"a.csv": "a\n", "reports/o/c.xlsx": "x"})
	if len(synced) != 1 || !strings.HasSuffix(synced[0], tmpPrefix+"r1") {
		t.Fatalf("whole-file-system syncs = %q, want one, of the run's directory", synced)
	}
	if runtime.GOOS == "linux" && !syncfsReportsErrors() {
		t.Log("kernel older than 5.8: Publish took the file-by-file path")
	}
}

// TestPublishFileByFile: where the system has no whole-file-system sync, Publish fsyncs file
// by file and the run is published whole.
func TestPublishFileByFile(t *testing.T) {
	calls := 0
	syncWhole = func(*os.File) error { calls++; return fmt.Errorf("syncfs: %w", errors.ErrUnsupported) }
	t.Cleanup(func() { syncWhole = syncFS })
	s := lockedStore(t)
	writeRun(t, s, "r1", map[string]string{"a.csv": "a\n", "reports/o/c.xlsx": "x"})
	if calls != 1 {
		t.Errorf("syncWhole called %d times, want 1", calls)
	}
	dir, ok, err := s.Current(testDate)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got := readFile(t, filepath.Join(dir, "reports", "o", "c.xlsx")); got != "x" {
		t.Errorf("published c.xlsx = %q", got)
	}
}

// TestPublishSyncErrorPublishesNothing: a failed sync (a write-back error of the run's files)
// fails Publish, naming the error, and current stays on the run before.
func TestPublishSyncErrorPublishesNothing(t *testing.T) {
	s := lockedStore(t)
	writeRun(t, s, "r1", map[string]string{"a.csv": "old\n"})
	syncWhole = func(f *os.File) error { return fmt.Errorf("syncfs %q: %w", f.Name(), errors.New("input/output error")) }
	t.Cleanup(func() { syncWhole = syncFS })
	run, err := s.Begin(testDate, "r2")
	if err != nil {
		t.Fatal(err)
	}
	w, err := run.Create("a.csv")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "new\n")
	w.Close()
	err = run.Publish()
	if err == nil || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("Publish = %v, want the sync's error", err)
	}
	if err := run.Abort(); err != nil {
		t.Fatal(err)
	}
	dir, ok, err := s.Current(testDate)
	if err != nil || !ok || filepath.Base(dir) != "r1" {
		t.Fatalf("current = %q %v %v, want r1", dir, ok, err)
	}
	if got := readFile(t, filepath.Join(dir, "a.csv")); got != "old\n" {
		t.Errorf("current a.csv = %q, want the old run's", got)
	}
	if got := entries(t, filepath.Join(s.Dir(), testDate, "runs")); len(got) != 1 {
		t.Errorf("runs = %q, want only r1", got)
	}
}
