package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"settle/period"
	"settle/workflow"
)

// The month-end close from the command line: a period report over two published days
// (exit 4 while a date has no run, 0 once every date has one, 3 with --fail-on warning),
// close, a rerun of a closed date refused with exit 2 naming the period, a period rerun
// refused, reopen needing --by and --comment, and the trail of both.
func TestPeriodCommand(t *testing.T) {
	st := t.TempDir()
	src := "demo?outlets=2&counters=2&seed=3&anomalies=0.3"
	for _, d := range []string{"2026-10-01", "2026-10-02"} {
		if code, _, errs := settle(t, "run", "--date", d, "--source", src, "--formats", "", "--store", st, "--quiet"); code != exitOK && code != exitIncomplete {
			t.Fatalf("run %s: exit %d %s", d, code, errs)
		}
	}
	code, _, errs := settle(t, "period", "--from", "2026-10-01", "--to", "2026-10-03", "--store", st, "--quiet", "--formats", "")
	if code != exitIncomplete || !strings.Contains(errs, "2026-10-03") {
		t.Fatalf("period with a missing date: exit %d %q, want 4 naming 2026-10-03", code, errs)
	}
	if code, _, errs := settle(t, "period", "--from", "2026-10-01", "--to", "2026-10-02", "--store", st, "--quiet", "--formats", "", "--fail-on", "warning"); code != exitFailOn {
		t.Fatalf("period --fail-on warning: exit %d %q, want 3 (PERIOD_NOT_APPROVED is a warning)", code, errs)
	}
	code, out, errs := settle(t, "period", "--from", "2026-10-01", "--to", "2026-10-02", "--store", st, "--quiet", "--formats", "pdf")
	if code != exitOK {
		t.Fatalf("period: exit %d %q", code, errs)
	}
	if !strings.Contains(out, "2026-10-01_2026-10-02") {
		t.Errorf("period: stdout %q", out)
	}
	for _, bad := range [][]string{
		{"period", "--month", "2026-13"},
		{"period", "--month", "2026-10", "--from", "2026-10-01"},
		{"period", "--from", "2026-10-02", "--to", "2026-10-01"},
		{"period", "--month", "2026-10", "--lang", "fr"},
		{"period", "--month", "2026-10", "--shortfall-limit", "abc"},
		{"period", "close", "--month", "2026-10", "--by", "x"}, // no report published for the month
		{"period", "--month", "2026-10", "--sla-days", "-1"},
	} {
		if code, _, errs := settle(t, append(bad, "--store", st)...); code != exitUsage {
			t.Errorf("%v: exit %d %q, want 2", bad, code, errs)
		}
	}
	// A mistyped store is refused, and nothing is made there.
	missing := filepath.Join(t.TempDir(), "no-such-store")
	for _, args := range [][]string{{"period", "--month", "2026-10"}, {"period", "close", "--month", "2026-10", "--by", "x"}} {
		if code, _, errs := settle(t, append(args, "--store", missing)...); code != exitUsage || !strings.Contains(errs, "--store") {
			t.Errorf("%v on a missing store: exit %d %q, want 2 naming --store", args, code, errs)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatalf("%v made the missing store: %v", args, err)
		}
	}
	if code, _, errs := settle(t, "period", "close", "--from", "2026-10-01", "--to", "2026-10-02", "--store", st, "--by", "财务 王", "--comment", "月结"); code != exitOK {
		t.Fatalf("close: exit %d %q", code, errs)
	}
	code, _, errs = settle(t, "run", "--date", "2026-10-02", "--source", src, "--formats", "", "--store", st, "--quiet")
	if code != exitUsage || !strings.Contains(errs, "2026-10-01_2026-10-02") {
		t.Errorf("rerun of a closed date: exit %d %q, want 2 naming the period", code, errs)
	}
	if code, _, _ := settle(t, "run", "--date", "2026-10-03", "--source", src, "--formats", "", "--store", st, "--quiet"); code != exitOK && code != exitIncomplete {
		t.Errorf("a date outside the closed period: exit %d", code)
	}
	if code, _, errs := settle(t, "period", "--from", "2026-10-01", "--to", "2026-10-02", "--store", st, "--quiet", "--formats", ""); code != exitUsage || !strings.Contains(errs, "closed") {
		t.Errorf("period report of a closed period: exit %d %q, want 2", code, errs)
	}
	if code, _, _ := settle(t, "period", "close", "--from", "2026-10-01", "--to", "2026-10-02", "--store", st, "--by", "x"); code != exitUsage {
		t.Errorf("closing a closed period: exit %d, want 2", code)
	}
	if code, _, errs := settle(t, "period", "reopen", "--from", "2026-10-01", "--to", "2026-10-02", "--store", st, "--by", "王"); code != exitUsage || !strings.Contains(errs, "--comment") {
		t.Errorf("reopen without --comment: exit %d %q", code, errs)
	}
	if code, _, errs := settle(t, "period", "reopen", "--from", "2026-10-01", "--to", "2026-10-02", "--store", st, "--by", "王", "--comment", "补录冲退"); code != exitOK {
		t.Fatalf("reopen: exit %d %q", code, errs)
	}
	if code, _, errs := settle(t, "run", "--date", "2026-10-02", "--source", src, "--formats", "", "--store", st, "--quiet"); code != exitOK && code != exitIncomplete {
		t.Errorf("rerun after reopen: exit %d %q", code, errs)
	}
	db, err := workflow.Open(st, workflow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	trail, err := db.PeriodEvents(context.Background(), "2026-10-01_2026-10-02") // newest first
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 2 || trail[1].Action != workflow.ActPeriodClose || trail[1].User != "财务 王" || trail[1].RunID == "" ||
		trail[0].Action != workflow.ActPeriodReopen || trail[0].Comment != "补录冲退" {
		t.Errorf("trail = %+v", trail)
	}
	if _, err := os.Stat(filepath.Join(st, "periods", "2026-10-01_2026-10-02", "current", "reports", "city-period.pdf")); err != nil {
		t.Errorf("the period's current report: %v", err)
	}
}

// A day run incomplete (feeds missing for some counters) makes the period incomplete: exit 4,
// PERIOD_DAY_INCOMPLETE for exactly the counter-days whose run is incomplete for them.
func TestPeriodIncompleteDay(t *testing.T) {
	st, faults := t.TempDir(), t.TempDir()
	if code, _, errs := settle(t, "fixtures", "generate", "--date", "2026-10-05", "--out", faults, "--outlets", "3",
		"--counters", "2", "--anomalies", "1", "--feed-faults", "--layout", "counter"); code != 0 {
		t.Fatalf("generate: %d %s", code, errs)
	}
	if code, _, errs := settle(t, "run", "--date", "2026-10-05", "--source", faults, "--formats", "", "--store", st, "--quiet"); code != exitIncomplete {
		t.Fatalf("run: exit %d %s", code, errs)
	}
	code, _, errs := settle(t, "period", "--from", "2026-10-05", "--to", "2026-10-05", "--store", st, "--quiet", "--formats", "")
	if code != exitIncomplete {
		t.Fatalf("period: exit %d %q, want 4", code, errs)
	}
	cur := filepath.Join(st, "periods", "2026-10-05_2026-10-05", "current")
	days, err := os.ReadFile(filepath.Join(cur, "period_days.csv"))
	if err != nil {
		t.Fatal(err)
	}
	incomplete := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(days)), "\n")[1:] {
		f := strings.Split(line, ",")
		if f[5] == "incomplete" {
			incomplete[f[3]] = true
		}
	}
	if len(incomplete) == 0 {
		t.Fatal("no incomplete counter-day in period_days.csv")
	}
	findings, err := os.ReadFile(filepath.Join(cur, "period_findings.csv"))
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(findings)), "\n")[1:] {
		f := strings.Split(line, ",")
		if f[2] == period.CodeDayIncomplete {
			flagged[f[6]] = true
		}
	}
	if len(flagged) != len(incomplete) {
		t.Errorf("PERIOD_DAY_INCOMPLETE for %v, want exactly %v", flagged, incomplete)
	}
	for c := range incomplete {
		if !flagged[c] {
			t.Errorf("incomplete counter %s has no PERIOD_DAY_INCOMPLETE", c)
		}
	}
}
