package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const testDate = "2026-11-21"

// lockedStore opens a store in a temporary directory and takes testDate's lock.
func lockedStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(context.Background(), testDate, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unlock(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// writeRun begins run id, writes files (relative path → content) and publishes it.
func writeRun(t *testing.T, s *Store, id string, files map[string]string) *Run {
	t.Helper()
	run, err := s.Begin(testDate, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range slices.Sorted(maps.Keys(files)) {
		w, err := run.Create(rel)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, files[rel]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := run.Publish(); err != nil {
		t.Fatal(err)
	}
	return run
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// entries lists the names in dir, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestNewRunID(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	tests := []struct {
		now    time.Time
		digest string
		want   string
	}{
		// sha256("abc") = ba7816bf…, sha256("") = e3b0c442…
		{time.Date(2026, 11, 22, 9, 30, 0, 0, shanghai), "abc", "20261122T013000.000Z-ba7816bf"},
		{time.Date(2026, 11, 22, 1, 30, 0, 999, time.UTC), "abc", "20261122T013000.000Z-ba7816bf"},
		{time.Date(2026, 11, 22, 1, 30, 0, 7e6, time.UTC), "abc", "20261122T013000.007Z-ba7816bf"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "", "20260102T030405.000Z-e3b0c442"},
	}
	for _, tt := range tests {
		if got := NewRunID(tt.now, tt.digest); got != tt.want {
			t.Errorf("NewRunID(%v, %q) = %q, want %q", tt.now, tt.digest, got, tt.want)
		}
		if err := checkRunID(tt.want); err != nil {
			t.Errorf("checkRunID(%q): %v", tt.want, err)
		}
	}
	// Later runs sort after earlier ones whatever their digests.
	base := time.Date(2026, 11, 22, 23, 59, 59, 0, time.UTC)
	var ids []string
	for i, d := range []string{"zzz", "aaa", "mmm", "000"} {
		ids = append(ids, NewRunID(base.Add(time.Duration(i)*time.Millisecond), d))
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids of increasing times do not sort: %q", ids)
	}
}

func TestCheckRel(t *testing.T) {
	good := []string{"a", "settlement.csv", "feeds/order.parquet", "reports/TY0001/TY0001-03.xlsx", "..a", "a..", "a/.b"}
	for _, rel := range good {
		if err := CheckRel(rel); err != nil {
			t.Errorf("CheckRel(%q) = %v, want nil", rel, err)
		}
	}
	bad := []string{"", ".", "..", "../x", "/abs", "a/../../b", "a/../b", "./a", "a/.", "a/", "a//b", `a\b`, `..\x`, "a\x00b", "/"}
	for _, rel := range bad {
		err := CheckRel(rel)
		want := fmt.Sprintf("invalid output path %q: want a clean relative path inside the run directory", rel)
		if err == nil || err.Error() != want {
			t.Errorf("CheckRel(%q) = %v, want %q", rel, err, want)
		}
	}
}

func TestCreateRefusesPathsOutside(t *testing.T) {
	s := lockedStore(t)
	run, err := s.Begin(testDate, "r1")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Abort()
	for _, rel := range []string{"../x", "/abs", "a/../../b"} {
		w, err := run.Create(rel)
		if err == nil {
			w.Close()
			t.Errorf("Create(%q) succeeded", rel)
			continue
		}
		if want := fmt.Sprintf("invalid output path %q: want a clean relative path inside the run directory", rel); err.Error() != want {
			t.Errorf("Create(%q) = %v, want %q", rel, err, want)
		}
	}
	// A symbolic link planted in the run directory does not lead out of it.
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(run.Dir(), "link")); err != nil {
		t.Fatal(err)
	}
	if w, err := run.Create("link/x"); err == nil {
		w.Close()
		t.Errorf("Create through a symlink out of the run succeeded")
	}
	if names := entries(t, outside); len(names) != 0 {
		t.Errorf("files created outside the run: %q", names)
	}
	// Invalid names are refused up front; a creation the file system refused spoils the run.
	if err := run.Publish(); err == nil || !strings.HasPrefix(err.Error(), `publish run 2026-11-21@r1: create "link/x": `) {
		t.Errorf("Publish after a refused creation = %v", err)
	}
}

func TestRunLifecycle(t *testing.T) {
	s := lockedStore(t)
	dateDir := filepath.Join(s.Dir(), testDate)

	if _, ok, err := s.Current(testDate); ok || err != nil {
		t.Fatalf("Current of a new date = %v, %v; want none", ok, err)
	}
	if ids, err := s.Runs(testDate); len(ids) != 0 || err != nil {
		t.Fatalf("Runs of a new date = %q, %v", ids, err)
	}

	// Publish: current is the relative link runs/<id>.
	run := writeRun(t, s, "20261122T013000Z-aaaaaaaa", map[string]string{"a.csv": "one\n", "reports/O1/C1.xlsx": "x"})
	if target, err := os.Readlink(filepath.Join(dateDir, "current")); err != nil || target != "runs/20261122T013000Z-aaaaaaaa" {
		t.Fatalf("current -> %q, %v", target, err)
	}
	dir, ok, err := s.Current(testDate)
	want := filepath.Join(dateDir, "runs", "20261122T013000Z-aaaaaaaa")
	if err != nil || !ok || dir != want {
		t.Fatalf("Current = %q, %v, %v; want %q", dir, ok, err, want)
	}
	if run.Dir() != want {
		t.Errorf("Dir after Publish = %q, want %q", run.Dir(), want)
	}
	if got := readFile(t, filepath.Join(dir, "a.csv")); got != "one\n" {
		t.Errorf("a.csv = %q", got)
	}
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	for rel, mode := range map[string]fs.FileMode{"a.csv": 0o644, "reports": 0o755 | fs.ModeDir, "reports/O1": 0o755 | fs.ModeDir} {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if want := mode &^ fs.FileMode(umask); fi.Mode() != want {
			t.Errorf("mode of %s = %v, want %v", rel, fi.Mode(), want)
		}
	}
	if err := run.Publish(); err == nil {
		t.Error("second Publish succeeded")
	}
	if _, err := run.Create("late.csv"); err == nil {
		t.Error("Create after Publish succeeded")
	}
	if err := run.Abort(); err != nil {
		t.Errorf("Abort after Publish = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.csv")); err != nil {
		t.Errorf("Abort after Publish removed the run: %v", err)
	}

	// Abort: current unchanged, nothing left behind.
	run2, err := s.Begin(testDate, "20261122T020000Z-bbbbbbbb")
	if err != nil {
		t.Fatal(err)
	}
	w, err := run2.Create("a.csv")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "two\n")
	w.Close()
	if err := run2.Abort(); err != nil {
		t.Fatal(err)
	}
	if dir, _, _ := s.Current(testDate); dir != want {
		t.Errorf("Current after Abort = %q, want %q", dir, want)
	}
	if got := entries(t, filepath.Join(dateDir, "runs")); !slices.Equal(got, []string{"20261122T013000Z-aaaaaaaa"}) {
		t.Errorf("runs after Abort = %q", got)
	}

	// A second run becomes current; Runs lists both in order.
	writeRun(t, s, "20261122T030000Z-cccccccc", map[string]string{"a.csv": "three\n"})
	ids, err := s.Runs(testDate)
	if err != nil || !slices.Equal(ids, []string{"20261122T013000Z-aaaaaaaa", "20261122T030000Z-cccccccc"}) {
		t.Errorf("Runs = %q, %v", ids, err)
	}
	if dir, _, _ := s.Current(testDate); filepath.Base(dir) != "20261122T030000Z-cccccccc" {
		t.Errorf("Current = %q", dir)
	}
	if dir, err := s.RunDir(testDate, "20261122T013000Z-aaaaaaaa"); err != nil || dir != want {
		t.Errorf("RunDir = %q, %v", dir, err)
	}
	if _, err := s.RunDir(testDate, "20261122T020000Z-bbbbbbbb"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RunDir of an aborted run = %v, want fs.ErrNotExist", err)
	}
	if _, err := s.RunDir(testDate, "../x"); err == nil || err.Error() != `invalid run id "../x"` {
		t.Errorf("RunDir(../x) = %v", err)
	}
	if _, err := s.Runs("2026-13-01"); err == nil || err.Error() != `invalid date "2026-13-01": want YYYY-MM-DD` {
		t.Errorf("Runs(2026-13-01) = %v", err)
	}
}

func TestBeginCleansLeftovers(t *testing.T) {
	s := lockedStore(t)
	dateDir := filepath.Join(s.Dir(), testDate)
	runs := filepath.Join(dateDir, "runs")
	writeRun(t, s, "r1", map[string]string{"a": "1"})
	writeRun(t, s, "r2", map[string]string{"a": "2"})

	// A killed run: its temporary directory stays.
	killed, err := s.Begin(testDate, "r3")
	if err != nil {
		t.Fatal(err)
	}
	w, _ := killed.Create("half.csv")
	io.WriteString(w, "half")
	w.Close()
	// A publish killed after moving r2 aside, and one killed after putting its
	// replacement of r1 in place; a stray current link.
	if err := os.Rename(filepath.Join(runs, "r2"), filepath.Join(runs, ".old-r2")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(runs, ".old-r1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("runs/r3", filepath.Join(dateDir, ".current-r3")); err != nil {
		t.Fatal(err)
	}

	run, err := s.Begin(testDate, "r4")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Abort()
	if got, want := entries(t, runs), []string{".tmp-r4", "r1", "r2"}; !slices.Equal(got, want) {
		t.Errorf("runs after Begin = %q, want %q", got, want)
	}
	if got := readFile(t, filepath.Join(runs, "r2", "a")); got != "2" {
		t.Errorf("restored r2/a = %q", got)
	}
	if got, want := entries(t, dateDir), []string{".lock", "current", "published", "runs"}; !slices.Equal(got, want) {
		t.Errorf("date dir after Begin = %q, want %q", got, want)
	}
	if dir, ok, err := s.Current(testDate); err != nil || !ok || filepath.Base(dir) != "r2" {
		t.Errorf("Current = %q, %v, %v; want r2", dir, ok, err)
	}
}

func TestPublishReplacesRunOfSameID(t *testing.T) {
	s := lockedStore(t)
	runs := filepath.Join(s.Dir(), testDate, "runs")
	writeRun(t, s, "r1", map[string]string{"a.csv": "old\n", "gone.csv": "x"})
	writeRun(t, s, "r1", map[string]string{"a.csv": "new\n"})
	if got, want := entries(t, runs), []string{"r1"}; !slices.Equal(got, want) {
		t.Errorf("runs = %q, want %q", got, want)
	}
	if got := entries(t, filepath.Join(runs, "r1")); !slices.Equal(got, []string{"a.csv"}) {
		t.Errorf("r1 holds %q, want only the new run's a.csv", got)
	}
	dir, ok, err := s.Current(testDate)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got := readFile(t, filepath.Join(dir, "a.csv")); got != "new\n" {
		t.Errorf("current a.csv = %q", got)
	}
}

func TestPublishRefusesAfterWriteError(t *testing.T) {
	s := lockedStore(t)
	writeRun(t, s, "r1", map[string]string{"a": "1"})

	run, err := s.Begin(testDate, "r2")
	if err != nil {
		t.Fatal(err)
	}
	w, err := run.Create("a")
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Publish(); err == nil || err.Error() != "publish run 2026-11-21@r2: 1 output files still open" {
		t.Errorf("Publish with an open file = %v", err)
	}
	w.Close()
	if _, err := w.Write([]byte("late")); err == nil {
		t.Fatal("write to a closed file succeeded")
	}
	err = run.Publish()
	if err == nil || !strings.HasPrefix(err.Error(), `publish run 2026-11-21@r2: write "a": `) {
		t.Errorf("Publish after a write error = %v", err)
	}
	if _, err := run.Create("a"); err == nil {
		t.Error("creating a file twice succeeded")
	}
	if err := run.Abort(); err != nil {
		t.Fatal(err)
	}
	if dir, _, _ := s.Current(testDate); filepath.Base(dir) != "r1" {
		t.Errorf("Current = %q, want r1", dir)
	}
	if ids, _ := s.Runs(testDate); !slices.Equal(ids, []string{"r1"}) {
		t.Errorf("Runs = %q", ids)
	}
}

func TestBeginNeedsLock(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(testDate, "r1"); err == nil || err.Error() != "begin run 2026-11-21@r1: the date is not locked by this store" {
		t.Errorf("Begin without the lock = %v", err)
	}
	unlock, err := s.Lock(context.Background(), testDate, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(testDate, ".tmp-x"); err == nil || err.Error() != `invalid run id ".tmp-x"` {
		t.Errorf("Begin(.tmp-x) = %v", err)
	}
	run, err := s.Begin(testDate, "r1")
	if err != nil {
		t.Fatal(err)
	}
	run.Abort()
	unlock()
	if _, err := s.Begin(testDate, "r2"); err == nil {
		t.Error("Begin after unlock succeeded")
	}
}

func TestLockContention(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	unlockA, err := a.Lock(ctx, testDate, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(dir, testDate, ".lock")
	holder := strings.TrimSpace(readFile(t, lockPath))
	if prefix := fmt.Sprintf("pid=%d host=", os.Getpid()); !strings.HasPrefix(holder, prefix) || !strings.Contains(holder, " since=") {
		t.Fatalf("lock file holds %q, want %q…since=…", holder, prefix)
	}

	var told []string
	_, err = b.Lock(ctx, testDate, 200*time.Millisecond, func(h string) { told = append(told, h) })
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock = %v, want ErrLocked", err)
	}
	want := fmt.Sprintf("lock 2026-11-21: held by %s (waited 200ms on %q): locked by another run", holder, lockPath)
	if err.Error() != want {
		t.Errorf("error = %q\nwant      %q", err, want)
	}
	var le *LockedError
	if !errors.As(err, &le) || le.Holder != holder {
		t.Errorf("LockedError = %+v", le)
	}
	if !slices.Equal(told, []string{holder}) {
		t.Errorf("waiting called with %q, want once with %q", told, holder)
	}
	// timeout 0 tries once.
	if _, err := b.Lock(ctx, testDate, 0, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("Lock with timeout 0 = %v", err)
	}
	// A cancelled context ends the wait.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Lock(cctx, testDate, time.Minute, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a cancelled context = %v", err)
	}

	// Released while b waits: b gets it.
	go func() {
		time.Sleep(100 * time.Millisecond)
		unlockA()
	}()
	unlockB, err := b.Lock(ctx, testDate, 5*time.Second, nil)
	if err != nil {
		t.Fatalf("Lock after release = %v", err)
	}
	if err := unlockA(); err != nil {
		t.Errorf("second unlock = %v", err)
	}
	if err := unlockB(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, lockPath); got != "" {
		t.Errorf("lock file after unlock holds %q", got)
	}
	// Other dates are independent.
	u1, err := a.Lock(ctx, "2026-11-20", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	u2, err := b.Lock(ctx, testDate, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	u1()
	u2()
}

// TestLockHolderProcess is the child of TestLockReleasedWhenHolderKilled: it takes the lock,
// says so on stdout and waits to be killed.
func TestLockHolderProcess(t *testing.T) {
	dir := os.Getenv("SETTLE_STORE_LOCK_HELPER")
	if dir == "" {
		t.Skip("helper process for TestLockReleasedWhenHolderKilled")
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(context.Background(), testDate, 0, nil); err != nil {
		t.Fatal(err)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
}

func TestLockReleasedWhenHolderKilled(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$")
	cmd.Env = append(os.Environ(), "SETTLE_STORE_LOCK_HELPER="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child said %q, %v", line, err)
	}

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var told string
	_, err = s.Lock(context.Background(), testDate, 100*time.Millisecond, func(h string) { told = h })
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while the child holds it = %v", err)
	}
	if prefix := fmt.Sprintf("pid=%d host=", cmd.Process.Pid); !strings.HasPrefix(le.Holder, prefix) || told != le.Holder {
		t.Errorf("holder %q, told %q; want %q…", le.Holder, told, prefix)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	unlock, err := s.Lock(context.Background(), testDate, 5*time.Second, nil)
	if err != nil {
		t.Fatalf("Lock after the holder was killed = %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("Open did not create %q: %v", dir, err)
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if _, err := Open(file); err == nil {
		t.Error("Open of a file succeeded")
	}
}

func TestPublishFailureLeavesCurrent(t *testing.T) {
	s := lockedStore(t)
	dateDir := filepath.Join(s.Dir(), testDate)
	writeRun(t, s, "r1", map[string]string{"a": "1"})
	writeRun(t, s, "r2", map[string]string{"a": "2"})
	// current cannot be replaced: a directory stands in its place.
	if err := os.Remove(filepath.Join(dateDir, "current")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dateDir, "current", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r3", "r1"} { // a new id, and one replacing a published run
		run, err := s.Begin(testDate, id)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := run.Create("a")
		io.WriteString(w, "new")
		w.Close()
		if err := run.Publish(); err == nil {
			t.Fatalf("Publish over a directory named current succeeded")
		}
		if err := run.Abort(); err != nil {
			t.Fatal(err)
		}
		if got, want := entries(t, filepath.Join(dateDir, "runs")), []string{"r1", "r2"}; !slices.Equal(got, want) {
			t.Errorf("runs after a failed publish of %s = %q, want %q", id, got, want)
		}
		if got := readFile(t, filepath.Join(dateDir, "runs", "r1", "a")); got != "1" {
			t.Errorf("r1/a after a failed publish of %s = %q", id, got)
		}
		if got, want := entries(t, filepath.Join(dateDir, "published")), []string{"000000000001-r1", "000000000002-r2"}; !slices.Equal(got, want) {
			t.Errorf("publication records after a failed publish of %s = %q, want %q", id, got, want)
		}
	}
}
