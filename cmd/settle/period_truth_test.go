package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The period checks against the fixtures' hidden oracle, end to end: a month of fixtures
// (44 counters over 6 dates: the smallest city and period holding every pattern and its near
// miss, plus the random anomalies of the other counters), each date run in order from its
// folder (settle run → job.Run, file source), then settle period. period_findings.csv must
// hold exactly the rows of period_truth.csv for the four data checks: the same counters, the
// same amounts, nothing extra and nothing missing.
func TestPeriodFindingsEqualTruth(t *testing.T) {
	dir, st := t.TempDir(), t.TempDir()
	from, to := "2026-11-01", "2026-11-06"
	if code, _, errs := settle(t, "fixtures", "generate", "--from", from, "--to", to, "--out", dir,
		"--outlets", "11", "--counters", "4", "--anomalies", "0.3", "--seed", "15"); code != 0 {
		t.Fatalf("fixtures: exit %d %s", code, errs)
	}
	dates := []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"}
	for _, d := range dates {
		if code, _, errs := settle(t, "run", "--quiet", "--date", d, "--source", filepath.Join(dir, d), "--store", st, "--formats", ""); code != exitOK && code != exitFailOn {
			t.Fatalf("run %s: exit %d %s", d, code, errs)
		}
	}
	code, out, errs := settle(t, "period", "--from", from, "--to", to, "--store", st, "--quiet", "--formats", "")
	if code != exitOK {
		t.Fatalf("period: exit %d %q", code, errs)
	}
	runDir := filepath.Join(st, "periods", from+"_"+to, "current")
	if _, err := os.Stat(runDir); err != nil {
		t.Fatalf("period output %q: %v (stdout %q)", runDir, err, out)
	}
	checked := map[string]bool{"SHORTFALL_RECURRENT": true, "SHORTFALL_CUMULATIVE": true, "OVER_SHORT_ALTERNATING": true, "REFUND_NEAR_LIMIT": true}
	// Both files start from,to,code,severity,city,outlet_id,counter_id,amount.
	rows := func(path string) []string {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		want := []string{"from", "to", "code", "severity", "city", "outlet_id", "counter_id", "amount"}
		if len(recs) == 0 || len(recs[0]) < 8 || !slices.Equal(recs[0][:8], want) {
			t.Fatalf("%s: header %v, want it to start %v", path, recs[0], want)
		}
		var out []string
		for _, r := range recs[1:] {
			if checked[r[2]] {
				out = append(out, strings.Join(r[:8], ","))
			}
		}
		slices.Sort(out)
		return out
	}
	want := rows(filepath.Join(dir, "period_truth.csv"))
	got := rows(filepath.Join(runDir, "period_findings.csv"))
	codes := map[string]bool{}
	for _, w := range want {
		codes[strings.Split(w, ",")[2]] = true
	}
	if len(codes) != len(checked) {
		t.Fatalf("period_truth.csv holds %d of the 4 codes (%v): the month is too small to test them all", len(codes), codes)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing from period_findings.csv: %s", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("not in period_truth.csv: %s", g)
		}
	}
	if t.Failed() {
		t.Logf("truth:\n%s\nfindings:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}
