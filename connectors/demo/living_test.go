package demo_test

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"settle/connectors/demo"
	"settle/engine"
	"settle/feed"
	"settle/fixtures"
	"settle/job"
	"settle/store"
)

func livingConfig(date time.Time) fixtures.Config {
	cfg := demo.NewConfig()
	cfg.Date, cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies = date, 20, 4, 11, 0.2
	return cfg
}

// TestDatesAreTheirOwnDays: the same seed and date give the same day; three dates give
// other figures and other anomalies over one roster.
func TestDatesAreTheirOwnDays(t *testing.T) {
	d0 := time.Date(2026, 11, 1, 0, 0, 0, 0, engine.Shanghai)
	var days []*fixtures.Day
	for i := range 3 {
		d, err := fixtures.Generate(livingConfig(d0.AddDate(0, 0, i)))
		if err != nil {
			t.Fatal(err)
		}
		days = append(days, d)
	}
	again, _ := fixtures.Generate(livingConfig(d0))
	if figures(days[0]) != figures(again) || fmt.Sprint(days[0].Truth) != fmt.Sprint(again.Truth) {
		t.Error("the same seed and date gave two different days")
	}
	for i := range days {
		for j := i + 1; j < len(days); j++ {
			if figures(days[i]) == figures(days[j]) {
				t.Errorf("%s and %s: the same local payments", days[i].BizDate(), days[j].BizDate())
			}
			if anomalies(days[i]) == anomalies(days[j]) {
				t.Errorf("%s and %s: the same anomalies at the same counters", days[i].BizDate(), days[j].BizDate())
			}
			if !slices.Equal(days[i].Roster(), days[j].Roster()) {
				t.Errorf("%s and %s: rosters differ", days[i].BizDate(), days[j].BizDate())
			}
		}
	}
}

// figures is the day's local payments without their dates and ids (which always differ).
func figures(d *fixtures.Day) string {
	col := feed.Get(feed.LocalPayment).Col("amount")
	var b strings.Builder
	for _, r := range d.Rows(feed.LocalPayment) {
		b.WriteString(r.Cells[col] + " ")
	}
	return b.String()
}

// anomalies is the day's (code, counter) pairs.
func anomalies(d *fixtures.Day) string {
	var s []string
	for _, r := range d.Truth {
		s = append(s, string(r.Code)+"@"+r.Counter)
	}
	return strings.Join(s, " ")
}

// TestWeekResolvesLookBack runs a week of the demo in date order into one store: every
// day's exceptions equal the generator's truth, which assumes the earlier days' runs are
// stored, so the refunds of earlier sales find their originals. Run alone (empty store), a
// day with such refunds raises REVERSAL_NO_HISTORY for each.
func TestWeekResolvesLookBack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a week")
	}
	d0 := time.Date(2026, 11, 1, 0, 0, 0, 0, engine.Shanghai)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	carried := 0
	for i := range 7 {
		date := d0.AddDate(0, 0, i)
		cfg := fixtures.MonthConfig(livingConfig(date), d0, d0.AddDate(0, 0, 6), date)
		day, err := fixtures.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out := runDay(t, st, demo.New(cfg), date)
		got := projected(readCSV(t, filepath.Join(out.RunDir, "exceptions.csv")), 1)
		var want []string
		for _, r := range day.Truth {
			want = append(want, strings.Join(r.Strings(), ","))
		}
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: exceptions differ from the truth:\ngot  %v\nwant %v", day.BizDate(), got, want)
		}
		n := carriedRefunds(t, day)
		carried += n
		if i == 6 && n > 0 {
			// The same day in an empty store: each carried refund lacks its history.
			alone := runDay(t, mustOpen(t), demo.New(cfg), date)
			noHist := 0
			for _, e := range readCSV(t, filepath.Join(alone.RunDir, "exceptions.csv"))[1:] {
				if e[1] == string(engine.CodeReversalNoHistory) {
					noHist++
				}
			}
			if noHist < n {
				t.Errorf("%s alone: %d REVERSAL_NO_HISTORY, want at least %d", day.BizDate(), noHist, n)
			}
		}
	}
	if carried < 3 {
		t.Errorf("a week carried %d refunds of earlier days, want several", carried)
	}
}

// carriedRefunds counts the day's REFUND rows whose orig_date is earlier than the day.
func carriedRefunds(t *testing.T, d *fixtures.Day) int {
	fd := feed.Get(feed.Reversal)
	n := 0
	for _, r := range d.Rows(feed.Reversal) {
		if !r.Verbatim && r.Cells[fd.Col("orig_date")] < d.BizDate() && r.Cells[fd.Col("kind")] == "REFUND" {
			n++
		}
	}
	return n
}

func mustOpen(t *testing.T) *store.Store {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func runDay(t *testing.T, st *store.Store, src *demo.Source, date time.Time) *job.Outcome {
	t.Helper()
	cfg := job.Config{Date: date, Source: src, Store: st, Engine: engine.NewConfig(), LockTimeout: time.Minute, FailOn: "never"}
	out, err := job.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

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

// projected keeps the columns of exceptions.csv the ground truth speaks of.
func projected(rows [][]string, from int) []string {
	var out []string
	for _, r := range rows[1:] {
		out = append(out, strings.Join(r[from:from+8], ","))
	}
	sort.Strings(out)
	return out
}
