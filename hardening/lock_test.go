package hardening

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// holdLock starts a run of source and waits until it holds the date's lock; it returns the
// running process and the holder text it wrote into the lock file.
func holdLock(t *testing.T, st, tmp, source string) (*proc, string) {
	t.Helper()
	p := start(t, env(tmp), "run", "--date", date, "--source", source, "--store", st)
	want := fmt.Sprintf("pid=%d ", p.cmd.Process.Pid)
	var holder string
	ok := waitFor(time.Minute, func() bool {
		b, _ := os.ReadFile(filepath.Join(st, date, ".lock"))
		holder = strings.TrimSpace(string(b))
		return strings.HasPrefix(holder, want)
	})
	if !ok {
		t.Fatalf("the first run never wrote %q into the lock file:\n%s", want, p.stderr.String())
	}
	return p, holder
}

// TestSecondRunWaitsForTheLock: a second run of a date while the first holds the lock logs
// that it waits, naming the holder, then runs; both publish, in order, and current names
// the second.
func TestSecondRunWaitsForTheLock(t *testing.T) {
	t.Parallel()
	st := filepath.Join(t.TempDir(), "store")
	tmp := t.TempDir()
	first, holder := holdLock(t, st, tmp, "demo?outlets=40&counters=5")
	second := mustRun(t, 0, env(tmp), "run", "--date", date, "--source", "demo?outlets=2&counters=1", "--store", st)
	if code := first.wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, first.stderr.String())
	}
	pid := strings.Fields(holder)[0]
	if !strings.Contains(second.stderr, "waiting for the lock") || !strings.Contains(second.stderr, pid+" ") {
		t.Errorf("the second run did not say it waits for %s:\n%s", pid, second.stderr)
	}
	current, leftovers := storeState(t, st)
	runs, err := os.ReadDir(filepath.Join(st, date, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range runs {
		ids = append(ids, e.Name())
	}
	if len(ids) != 2 || !slices.IsSorted(ids) || current != ids[1] || !strings.Contains(second.stdout, current) || len(leftovers) > 0 {
		t.Errorf("runs %v, current %q (the second run said %q), leftovers %v; want two runs, the second current",
			ids, current, strings.TrimSpace(second.stdout), leftovers)
	}
	if b, _ := os.ReadFile(filepath.Join(st, date, ".lock")); len(b) != 0 {
		t.Errorf("the lock file still names a holder after both runs: %q", b)
	}
}

// TestLockTimeoutNamesHolder: with --lock-timeout 1s the second run fails with exit 1 after
// about a second, naming the holder; the first run publishes alone.
func TestLockTimeoutNamesHolder(t *testing.T) {
	t.Parallel()
	st := filepath.Join(t.TempDir(), "store")
	tmp := t.TempDir()
	// A day that takes seconds even on a fast machine: the second run must time out first.
	first, holder := holdLock(t, st, tmp, "demo?outlets=120&counters=5")
	second := settle(t, env(tmp), "run", "--date", date, "--source", "demo?outlets=2&counters=1", "--store", st,
		"--lock-timeout", "1s", "--quiet")
	pid := strings.Fields(holder)[0]
	if second.code != 1 || !strings.Contains(second.stderr, "held by "+pid+" ") {
		t.Errorf("second run: want exit 1 naming %s, got\n%s", pid, second)
	}
	if second.elapsed < time.Second {
		t.Errorf("the second run gave up after %s, before --lock-timeout", second.elapsed)
	}
	select {
	case <-first.done:
		t.Log("the first run ended before the second gave up")
	default:
	}
	if code := first.wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, first.stderr.String())
	}
	current, leftovers := storeState(t, st)
	runs, _ := os.ReadDir(filepath.Join(st, date, "runs"))
	if len(runs) != 1 || current != runs[0].Name() || len(leftovers) > 0 {
		t.Errorf("runs %d, current %q, leftovers %v; want the first run alone", len(runs), current, leftovers)
	}
}
