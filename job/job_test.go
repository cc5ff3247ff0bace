package job

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"settle/connectors"
	"settle/connectors/file"
	"settle/engine"
	"settle/fixtures"
	"settle/store"
)

var day1 = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// runOnce runs a day from src into the store at dir.
func runOnce(t *testing.T, dir string, src connectors.Source, date time.Time) (*Outcome, error) {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Date: date, Source: src, Store: st, Engine: engine.NewConfig(), LockTimeout: time.Minute, FailOn: "never"}
	return Run(t.Context(), cfg)
}

// writeDay generates the day cfg describes and writes its files into a new directory.
func writeDay(t *testing.T, cfg fixtures.Config) (*fixtures.Day, string) {
	t.Helper()
	day, err := fixtures.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := fixtures.WriteDir(day, src); err != nil {
		t.Fatal(err)
	}
	return day, src
}

// projected keeps the columns of exceptions.csv the ground truth speaks of:
// code, severity, city, outlet_id, counter_id, feed, txn_id, amount.
func projected(rows [][]string, from int) []string {
	var out []string
	for _, r := range rows[1:] {
		out = append(out, strings.Join(r[from:from+8], ","))
	}
	sort.Strings(out)
	return out
}

// TestGeneratedTruthIsFound is the oracle test: on every dialect and layout, the run finds
// every anomaly the generator injected, and nothing else.
func TestGeneratedTruthIsFound(t *testing.T) {
	cases := []struct{ dialect, layout string }{
		{fixtures.DialectCanonical, fixtures.LayoutCity},
		{fixtures.DialectBOSS, fixtures.LayoutCity},
		{fixtures.DialectCanonical, fixtures.LayoutCounter},
		{fixtures.DialectBOSS, fixtures.LayoutCounter},
	}
	for _, tc := range cases {
		for _, faults := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s-%s-faults=%v", tc.dialect, tc.layout, faults), func(t *testing.T) {
				cfg := fixtures.NewConfig()
				cfg.Date, cfg.Outlets, cfg.Counters, cfg.Seed = day1, 12, 3, 7
				cfg.Anomalies, cfg.Dialect, cfg.Layout, cfg.FeedFaults = 0.6, tc.dialect, tc.layout, faults
				_, src := writeDay(t, cfg)
				out, err := runOnce(t, t.TempDir(), file.New(src), day1)
				if faults != errors.Is(err, ErrIncomplete) || (err != nil && !errors.Is(err, ErrIncomplete)) {
					t.Fatalf("Run: %v (feed faults %v)", err, faults)
				}
				got := projected(readCSV(t, filepath.Join(out.RunDir, "exceptions.csv")), 1)
				want := projected(readCSV(t, filepath.Join(src, "truth.csv")), 0)
				if len(want) == 0 {
					t.Fatal("the generator injected nothing")
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("exceptions differ from the truth:\n%s", diffLines(got, want))
				}
			})
		}
	}
}

// diffLines lists what only one side has.
func diffLines(got, want []string) string {
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	for _, w := range want {
		count[w]--
	}
	var b strings.Builder
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch n := count[k]; {
		case n > 0:
			fmt.Fprintf(&b, "  unexpected (%d): %s\n", n, k)
		case n < 0:
			fmt.Fprintf(&b, "  missing    (%d): %s\n", -n, k)
		}
	}
	return b.String()
}

func TestCleanDayHasNoExceptions(t *testing.T) {
	cfg := fixtures.NewConfig()
	cfg.Date, cfg.Outlets, cfg.Counters = day1, 5, 2
	_, src := writeDay(t, cfg)
	out, err := runOnce(t, t.TempDir(), file.New(src), day1)
	if err != nil {
		t.Fatal(err)
	}
	if rows := readCSV(t, filepath.Join(out.RunDir, "exceptions.csv")); len(rows) != 1 {
		t.Errorf("a clean day raised %d exceptions: %v", len(rows)-1, rows[1:])
	}
	if rows := readCSV(t, filepath.Join(out.RunDir, "rejects.csv")); len(rows) != 1 {
		t.Errorf("a clean day rejected %d rows", len(rows)-1)
	}
	if out.Counters != 10 {
		t.Errorf("counters = %d, want 10", out.Counters)
	}
}

// TestLookBackIntoStoredRun runs day 1, then day 2 with refunds of day-1 transactions: the
// reversal rules must find the originals in day 1's published feeds.
func TestLookBackIntoStoredRun(t *testing.T) {
	storeDir := t.TempDir()
	gen := func(date time.Time) string {
		cfg := fixtures.NewConfig()
		cfg.Date, cfg.Outlets, cfg.Counters, cfg.Seed = date, 2, 1, 3
		_, dir := writeDay(t, cfg)
		return dir
	}
	src1 := gen(day1)
	if _, err := runOnce(t, storeDir, file.New(src1), day1); err != nil {
		t.Fatal(err)
	}
	// The first local payment of day 1: refund part of it, then too much of it.
	lp := readCSV(t, filepath.Join(src1, "local_payment.csv"))[1]
	txn, counter, outlet, amount, pay := lp[4], lp[3], lp[2], lp[8], lp[9]

	day2 := day1.AddDate(0, 0, 1)
	src2 := gen(day2)
	head := "biz_date,city,outlet_id,counter_id,txn_id,txn_time,orig_txn_id,orig_date,orig_feed,kind,amount,pay_method,approver_id,reason\n"
	line := func(id, orig, origDate, amt string) string {
		return strings.Join([]string{"2026-11-22", "TY", outlet, counter, id, "2026-11-22 10:00:00", orig, origDate, "local_payment", "REFUND", amt, pay, "SUP1", ""}, ",") + "\n"
	}
	extra := head + line("XR1", txn, "2026-11-21", "0.01") +
		line("XR2", txn, "2026-11-21", amount) + // with XR1, more than the original
		line("XR3", "NOSUCH", "2026-11-21", "1.00") +
		line("XR4", "OLD", "2026-11-10", "1.00")
	if err := os.WriteFile(filepath.Join(src2, "extra_冲退日报.csv"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runOnce(t, storeDir, file.New(src2), day2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range readCSV(t, filepath.Join(out.RunDir, "exceptions.csv"))[1:] {
		if strings.HasPrefix(e[1], "REVERSAL") {
			got = append(got, strings.Join([]string{e[1], e[7], e[8]}, " "))
		}
	}
	want := []string{
		"REVERSAL_EXCEEDS_ORIGINAL XR2 " + amount,
		"REVERSAL_NO_HISTORY XR4 1.00",
		"REVERSAL_ORPHAN XR3 1.00",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("reversal findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
