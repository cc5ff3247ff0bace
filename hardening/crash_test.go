package hardening

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tmpRuns lists the runs being written (runs/.tmp-*) of the date.
func tmpRuns(storeDir string) []string {
	m, _ := filepath.Glob(filepath.Join(storeDir, date, "runs", ".tmp-*"))
	return m
}

// countFiles counts the regular files under dir whose name ends in suffix.
func countFiles(dir, suffix string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, suffix) {
			n++
		}
		return nil
	})
	return n
}

// recover runs a small day into the store after kills and checks that it publishes and
// leaves no leftover of the killed runs.
func recoverStore(t *testing.T, st, tmp string) {
	t.Helper()
	r := mustRun(t, 0, env(tmp), "run", "--date", date, "--source", "demo?outlets=2&counters=2", "--store", st, "--quiet")
	current, leftovers := storeState(t, st)
	if current == "" || !strings.Contains(r.stdout, current) {
		t.Errorf("after the recovery run current is %q; settle said %q", current, r.stdout)
	}
	if len(leftovers) > 0 {
		t.Errorf("the recovery run left %v", leftovers)
	}
	noFilesOutside(t, tmp)
}

// TestKillBigDemoRun: a run of the full demo city (2,285 counters, with reports) killed with
// SIGKILL after two seconds leaves no current run or a whole one, and the next run publishes.
func TestKillBigDemoRun(t *testing.T) {
	t.Parallel()
	st := filepath.Join(t.TempDir(), "store")
	tmp := t.TempDir()
	p := start(t, env(tmp), "run", "--date", date, "--source", "demo", "--store", st)
	time.Sleep(2 * time.Second)
	if !p.kill(t) {
		t.Fatalf("the full demo run ended within 2 s:\n%s", p.stderr.String())
	}
	if current, leftovers := storeState(t, st); current != "" {
		t.Errorf("a run killed after 2 s published %s (leftovers %v)", current, leftovers)
	}
	recoverStore(t, st, tmp)
}

// TestKillInEveryPhase kills a medium day's run while it fetches, writes the results,
// renders the reports and writes its manifest; after each kill `current` still names the
// run published before, whole, and the next run publishes and removes what the killed
// ones left.
func TestKillInEveryPhase(t *testing.T) {
	t.Parallel()
	st := filepath.Join(t.TempDir(), "store")
	tmp := t.TempDir()
	mustRun(t, 0, env(tmp), "run", "--date", date, "--source", "demo?outlets=2&counters=1", "--store", st, "--quiet")
	prev, _ := storeState(t, st)
	medium := "demo?outlets=40&counters=5"
	started := time.Now()
	// The killed runs' temporary directories stay until the next run begins: a phase looks
	// only at directories that were not there when its run started.
	var left []string
	runDirs := func() []string {
		return slices.DeleteFunc(tmpRuns(st), func(d string) bool { return slices.Contains(left, d) })
	}
	// must: phases the run always lasts long enough to be killed in; a run that ends before
	// one of them is a failure (the test would otherwise pass without killing anything).
	phases := []struct {
		name string
		must bool
		at   func() bool
	}{
		{"fetching (0.5 s)", false, func() bool { return time.Since(started) >= 500*time.Millisecond }},
		{"writing the results", true, func() bool { return len(runDirs()) > 0 }},
		{"rendering the reports", true, func() bool {
			tr := runDirs()
			return len(tr) > 0 && countFiles(tr[0], ".pdf") >= 20
		}},
		{"writing the manifest", false, func() bool {
			tr := runDirs()
			if len(tr) == 0 {
				return false
			}
			_, err := os.Stat(filepath.Join(tr[0], "manifest.json"))
			return err == nil
		}},
	}
	for _, ph := range phases {
		started, left = time.Now(), tmpRuns(st)
		p := start(t, env(tmp), "run", "--date", date, "--source", medium, "--store", st)
		reached := false
		for !reached {
			select {
			case <-p.done:
			default:
				reached = ph.at()
				if !reached {
					time.Sleep(time.Millisecond)
				}
				continue
			}
			break
		}
		killed := p.kill(t)
		current, leftovers := storeState(t, st)
		switch {
		case killed && current != prev:
			t.Errorf("killed while %s: current is %q, want the previous run %q", ph.name, current, prev)
		case !killed:
			// The run ended before the moment came (it can only have succeeded).
			if code := p.wait(t, time.Second); code != 0 || current == prev {
				t.Errorf("%s: the run ended with exit %d before the kill; current %q", ph.name, code, current)
			}
			t.Logf("%s: the run finished before the kill", ph.name)
			if ph.must {
				t.Errorf("%s: the run finished before it could be killed in this phase", ph.name)
			}
			prev = current
		}
		t.Logf("killed while %s (after %s): current %s, leftovers %v", ph.name, time.Since(started).Round(time.Millisecond), current, leftovers)
	}
	recoverStore(t, st, tmp)
}

// TestKillAtManyMoments reruns a small day with SOURCE_DATE_EPOCH (so every run has the
// same id and replaces the one before) and kills it at moments spread over a whole run,
// the publication included: every time, `current` names a whole run.
func TestKillAtManyMoments(t *testing.T) {
	t.Parallel()
	st := filepath.Join(t.TempDir(), "store")
	tmp := t.TempDir()
	e := env(tmp, "SOURCE_DATE_EPOCH="+epoch)
	args := []string{"run", "--date", date, "--source", "demo?outlets=3&counters=2", "--store", st, "--quiet"}
	first := mustRun(t, 0, e, args...)
	id, _ := storeState(t, st)
	whole := first.elapsed
	const n = 12
	killed := 0
	for i := range n {
		at := whole * time.Duration(i+1) / n
		p := start(t, e, args...)
		time.Sleep(at)
		if p.kill(t) {
			killed++
		} else if code := p.wait(t, time.Second); code != 0 {
			t.Fatalf("run %d ended with exit %d:\n%s", i, code, p.stderr.String())
		}
		current, leftovers := storeState(t, st)
		if current != id {
			t.Fatalf("killed after %s: current is %q, want %q (leftovers %v)", at, current, id, leftovers)
		}
	}
	t.Logf("%d of %d runs killed, at moments up to %s", killed, n, whole)
	if killed == 0 {
		t.Error("no run was killed before it ended")
	}
	recoverStore(t, st, tmp)
}

// TestWriteErrorFailsCleanly: a write error (here EFBIG from RLIMIT_FSIZE, which binds root
// too, with SIGXFSZ ignored so that it surfaces as an error, as ENOSPC would) while writing
// the results or the reports fails the run with exit 1 and a message naming the file;
// nothing is published, `current` is left as it was and the temporary run is removed.
// A store where a directory must be created but a file is in the way fails the same way.
func TestWriteErrorFailsCleanly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit int64 // RLIMIT_FSIZE in bytes; 0: none
		block string
		want  []string
	}{
		{"results", 4 << 10, "", []string{"write run ", ".csv", "file too large"}},
		{"reports", 20 << 10, "", []string{"render reports of ", "/reports/", "file too large"}},
		{"runs is a file", 0, "runs", []string{"begin run ", "runs", "not a directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := filepath.Join(t.TempDir(), "store")
			tmp := t.TempDir()
			src := "demo?outlets=2&counters=1"
			var prev string
			if tt.block == "" {
				mustRun(t, 0, env(tmp), "run", "--date", date, "--source", src, "--store", st, "--quiet", "--formats", "")
				prev, _ = storeState(t, st)
			} else {
				if err := os.MkdirAll(filepath.Join(st, date), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(st, date, tt.block), []byte("in the way"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e := env(tmp)
			if tt.limit > 0 {
				e = append(e, fmt.Sprintf("%s=%d", fsizeEnv, tt.limit))
			}
			r := settleLimited(t, e, "run", "--date", date, "--source", src, "--store", st, "--quiet")
			for _, w := range tt.want {
				if r.code != 1 || !strings.Contains(r.stderr, w) {
					t.Fatalf("want exit 1 and %q, got\n%s", w, r)
				}
			}
			if tt.block != "" {
				return
			}
			current, leftovers := storeState(t, st)
			if current != prev || len(leftovers) > 0 {
				t.Errorf("current %q (want %q), leftovers %v", current, prev, leftovers)
			}
			runs, _ := os.ReadDir(filepath.Join(st, date, "runs"))
			if len(runs) != 1 {
				t.Errorf("runs/ holds %d entries, want only the previous run", len(runs))
			}
			noFilesOutside(t, tmp)
			// A run without the limit then publishes.
			mustRun(t, 0, env(tmp), "run", "--date", date, "--source", src, "--store", st, "--quiet")
			if current, _ := storeState(t, st); current == prev || current == "" {
				t.Errorf("the run after the failure did not publish: current %q", current)
			}
		})
	}
}

// fsizeEnv and umaskEnv ask TestMain, re-executed as a wrapper, to set RLIMIT_FSIZE (and
// ignore SIGXFSZ) or the umask before it executes settle.
const (
	fsizeEnv = "HARDENING_FSIZE"
	umaskEnv = "HARDENING_UMASK"
)

// settleLimited runs settle through the test binary as a wrapper when fsizeEnv or umaskEnv
// is set.
func settleLimited(t *testing.T, envv []string, args ...string) result {
	t.Helper()
	if !slices.ContainsFunc(envv, func(kv string) bool {
		return strings.HasPrefix(kv, fsizeEnv+"=") || strings.HasPrefix(kv, umaskEnv+"=")
	}) {
		return settle(t, envv, args...)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return settleAs(t, self, append(envv, wrapEnv+"="+bin), args...)
}

// TestTermStopsCleanly: SIGTERM (or Ctrl-C) while a run fetches or renders stops it within
// seconds with exit 1: nothing is published, `current` is as it was and the temporary run
// directory is removed, not left for the next run.
func TestTermStopsCleanly(t *testing.T) {
	t.Parallel()
	st := filepath.Join(t.TempDir(), "store")
	tmp := t.TempDir()
	mustRun(t, 0, env(tmp), "run", "--date", date, "--source", "demo?outlets=2&counters=1", "--store", st, "--quiet")
	prev, _ := storeState(t, st)
	for _, phase := range []string{"fetching", "rendering"} {
		p := start(t, env(tmp), "run", "--date", date, "--source", "demo?outlets=40&counters=5", "--store", st, "--quiet")
		reached := waitFor(time.Minute, func() bool {
			if phase == "fetching" {
				// The run holds its date's lock (its pid in the lock file): past the start of
				// main, where the signal handler is put in place, whatever the machine's load.
				b, _ := os.ReadFile(filepath.Join(st, date, ".lock"))
				return strings.Contains(string(b), fmt.Sprintf("pid=%d ", p.cmd.Process.Pid))
			}
			tr := tmpRuns(st)
			return len(tr) > 0 && countFiles(tr[0], ".pdf") >= 5
		})
		if !reached {
			t.Fatalf("%s: the run never got there:\n%s", phase, p.stderr.String())
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		code := p.wait(t, time.Minute)
		if code != 1 || !strings.Contains(p.stderr.String(), "context canceled") {
			t.Errorf("%s: SIGTERM gave exit %d:\n%s", phase, code, p.stderr.String())
		}
		t.Logf("%s: stopped %s after SIGTERM", phase, time.Since(sent).Round(time.Millisecond))
		if current, leftovers := storeState(t, st); current != prev || len(leftovers) > 0 {
			t.Errorf("%s: current %q (want %q), leftovers %v", phase, current, prev, leftovers)
		}
	}
	noFilesOutside(t, tmp)
}
