package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"settle/internal/atomicfile"
)

// TestPublishSyncsTheFileSystem: Publish makes the run durable with one whole-file-system
// sync of the file system the run is on (on Linux 5.8+, where it succeeds), and fsyncs no
// file of the run one by one.
func TestPublishSyncsTheFileSystem(t *testing.T) {
	var (
		synced []string
		errs   []error
	)
	syncWhole = func(f *os.File) error {
		err := syncFS(f)
		synced, errs = append(synced, f.Name()), append(errs, err)
		return err
	}
	fsynced := watchFsyncs(t, nil)
	t.Cleanup(func() { syncWhole = syncFS })
	s := lockedStore(t)
	writeRun(t, s, "r1", map[string]string{"a.csv": "a\n", "reports/o/c.xlsx": "x"})
	if len(synced) != 1 || !strings.HasSuffix(synced[0], tmpPrefix+"r1") {
		t.Fatalf("whole-file-system syncs = %q, want one, of the run's directory", synced)
	}
	if runtime.GOOS != "linux" || !syncfsReportsErrors() {
		t.Skipf("no syncfs that reports errors here (%s): Publish takes the file-by-file path (TestPublishFileByFile)", runtime.GOOS)
	}
	if errs[0] != nil {
		t.Fatalf("syncfs: %v", errs[0])
	}
	for _, p := range fsynced() {
		if strings.Contains(p, tmpPrefix+"r1") {
			t.Errorf("%s fsynced one by one after the whole-file-system sync", p)
		}
	}
}

// TestPublishFileByFile: where the system has no whole-file-system sync, Publish fsyncs
// every file and directory of the run, and a failed fsync publishes nothing.
func TestPublishFileByFile(t *testing.T) {
	syncWhole = func(*os.File) error { return fmt.Errorf("syncfs: %w", errors.ErrUnsupported) }
	t.Cleanup(func() { syncWhole = syncFS })
	fsynced := watchFsyncs(t, nil)
	s := lockedStore(t)
	writeRun(t, s, "r1", map[string]string{"a.csv": "a\n", "reports/o/c.xlsx": "x"})
	var got []string
	for _, p := range fsynced() {
		if _, rel, ok := strings.Cut(p, tmpPrefix+"r1"); ok {
			got = append(got, "."+rel)
		}
	}
	slices.Sort(got)
	want := []string{".", "./a.csv", "./reports", "./reports/o", "./reports/o/c.xlsx"}
	if !slices.Equal(got, want) {
		t.Errorf("fsynced under the run = %q, want %q", got, want)
	}

	watchFsyncs(t, func(p string) error {
		if strings.HasSuffix(p, "b.csv") {
			return errors.New("input/output error")
		}
		return nil
	})
	run, err := s.Begin(testDate, "r2")
	if err != nil {
		t.Fatal(err)
	}
	put(t, run, "b.csv", "b\n")
	if err := run.Publish(); err == nil || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("Publish = %v, want the fsync's error", err)
	}
	run.Abort()
	if dir, _, _ := s.Current(testDate); filepath.Base(dir) != "r1" {
		t.Errorf("current = %q after a failed fsync, want r1", dir)
	}
}

// TestPublishSyncErrorPublishesNothing: a failed whole-file-system sync (a write-back error
// of the run's files) fails Publish, naming the error, and current stays on the run before.
func TestPublishSyncErrorPublishesNothing(t *testing.T) {
	s := lockedStore(t)
	writeRun(t, s, "r1", map[string]string{"a.csv": "old\n"})
	syncWhole = func(f *os.File) error { return fmt.Errorf("syncfs %q: %w", f.Name(), errors.New("input/output error")) }
	t.Cleanup(func() { syncWhole = syncFS })
	run, err := s.Begin(testDate, "r2")
	if err != nil {
		t.Fatal(err)
	}
	put(t, run, "a.csv", "new\n")
	err = run.Publish()
	if err == nil || !strings.Contains(err.Error(), "input/output error") || errors.Is(err, ErrNotDurable) {
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

// TestPublishAfterTheSwitch: once current names the new run, Publish reports it published
// whatever fails after: a clean-up of the replaced run that fails is left to the next
// Begin, and a failed fsync of the date directory is an error wrapping ErrNotDurable with
// the run current and Dir naming it.
func TestPublishAfterTheSwitch(t *testing.T) {
	s := lockedStore(t)
	writeRun(t, s, "r1", map[string]string{"a.csv": "old\n"})

	removeReplaced = func(string) error { return errors.New("device busy") }
	t.Cleanup(func() { removeReplaced = os.RemoveAll })
	run := writeRun(t, s, "r1", map[string]string{"a.csv": "new\n"}) // fails the test if Publish errs
	removeReplaced = os.RemoveAll
	dir, _, _ := s.Current(testDate)
	if got := readFile(t, filepath.Join(dir, "a.csv")); got != "new\n" || run.Dir() != dir {
		t.Fatalf("current a.csv = %q (run dir %q, current %q), want the rerun's", got, run.Dir(), dir)
	}
	if got := entries(t, filepath.Join(s.Dir(), testDate, "runs")); len(got) != 2 {
		t.Fatalf("runs = %q, want r1 and the replaced run left behind", got)
	}
	next, err := s.Begin(testDate, "r2")
	if err != nil {
		t.Fatal(err)
	}
	next.Abort()
	if got := entries(t, filepath.Join(s.Dir(), testDate, "runs")); !slices.Equal(got, []string{"r1"}) {
		t.Errorf("runs after the next Begin = %q, want only r1", got)
	}

	dateDir := filepath.Join(s.Dir(), testDate)
	watchFsyncs(t, func(p string) error {
		if p == dateDir {
			return errors.New("input/output error")
		}
		return nil
	})
	run, err = s.Begin(testDate, "r3")
	if err != nil {
		t.Fatal(err)
	}
	put(t, run, "a.csv", "r3\n")
	err = run.Publish()
	if !errors.Is(err, ErrNotDurable) {
		t.Fatalf("Publish = %v, want ErrNotDurable", err)
	}
	dir, _, _ = s.Current(testDate)
	if filepath.Base(dir) != "r3" || run.Dir() != dir {
		t.Errorf("current = %q, run dir %q: want r3 current and named by Dir", dir, run.Dir())
	}
	if err := run.Abort(); err != nil || readFile(t, filepath.Join(dir, "a.csv")) != "r3\n" {
		t.Errorf("Abort after the switch = %v; it must leave the current run alone", err)
	}
}

// watchFsyncs makes syncDir record every path it fsyncs, and fail those fail says (nil: none);
// it returns what was fsynced so far.
func watchFsyncs(t *testing.T, fail func(path string) error) func() []string {
	var (
		mu    sync.Mutex
		paths []string
	)
	syncDir = func(p string) error {
		mu.Lock()
		paths = append(paths, p)
		mu.Unlock()
		if fail != nil {
			if err := fail(p); err != nil {
				return err
			}
		}
		return atomicfile.Sync(p)
	}
	t.Cleanup(func() { syncDir = atomicfile.Sync })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(paths)
	}
}

// put writes content to rel in run through the store's own writeFile.
func put(t *testing.T, run *Run, rel, content string) {
	t.Helper()
	if err := writeFile(run, rel, func(w io.Writer) error {
		_, err := io.WriteString(w, content)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
