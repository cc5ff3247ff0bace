package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFixturesMonth: --from/--to writes a directory per date and period_truth.csv; the
// runs of its dates in order find every day's truth (the refunds of earlier days resolve).
func TestFixturesMonth(t *testing.T) {
	dir, storeDir := t.TempDir(), t.TempDir()
	code, out, stderr := settle(t, "fixtures", "generate", "--from", "2026-11-01", "--to", "2026-11-05", "--out", dir,
		"--outlets", "10", "--counters", "5", "--anomalies", "0.1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "5 dates") {
		t.Errorf("stdout %q", out)
	}
	truth, err := os.ReadFile(filepath.Join(dir, "period_truth.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"SHORTFALL_RECURRENT", "SHORTFALL_CUMULATIVE", "OVER_SHORT_ALTERNATING", "REFUND_NEAR_LIMIT"} {
		if !strings.Contains(string(truth), ","+c+",") {
			t.Errorf("period_truth.csv lacks %s:\n%s", c, truth)
		}
	}
	for _, date := range []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"} {
		if code, _, stderr := settle(t, "run", "--quiet", "--date", date, "--source", filepath.Join(dir, date), "--store", storeDir, "--formats", ""); code != 0 {
			t.Fatalf("run %s: exit %d: %s", date, code, stderr)
		}
		got := monthCSVLines(t, filepath.Join(storeDir, date, "current", "exceptions.csv"), 1)
		want := monthCSVLines(t, filepath.Join(dir, date, "truth.csv"), 0)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: exceptions differ from truth.csv", date)
		}
	}
	if code, _, _ := settle(t, "fixtures", "generate", "--date", "2026-11-01", "--from", "2026-11-01", "--to", "2026-11-02", "--out", dir); code != 2 {
		t.Errorf("--date with --from: exit %d, want 2", code)
	}
	if code, _, _ := settle(t, "fixtures", "generate", "--from", "2026-11-03", "--to", "2026-11-02", "--out", dir); code != 2 {
		t.Errorf("--to before --from: exit %d, want 2", code)
	}
}

// monthCSVLines returns a CSV's data lines from column from on (8 columns), sorted.
func monthCSVLines(t *testing.T, path string, from int) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		f := strings.Split(l, ",")
		out = append(out, strings.Join(f[from:from+8], ","))
	}
	slices.Sort(out)
	return out
}
