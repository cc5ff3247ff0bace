package workflow

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"settle/period"
)

// fillDays writes n counters' sign-off rows for each of the dates (every third approved,
// every third certified, the rest returned), straight into the table.
func fillDays(tb testing.TB, d *DB, dates []string, n int) {
	tb.Helper()
	err := d.tx(context.Background(), func(t *sql.Tx) error {
		for _, date := range dates {
			for i := range n {
				status := []string{StatusApproved, StatusCertified, StatusOpen}[i%3]
				run := ""
				if status != StatusOpen {
					run = "run-" + date
				}
				if _, err := t.Exec(`INSERT INTO days(date, outlet, counter, status, run_id) VALUES (?,?,?,?,?)`,
					date, fmt.Sprintf("TY%04d", i/8), fmt.Sprintf("TY%04d-%02d", i/8, i%8), status, run); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// PeriodSignOffs gives each date's certified and approved counter-days with their run, and
// leaves the open ones out.
func TestPeriodSignOffs(t *testing.T) {
	d := open(t, t.TempDir())
	fillDays(t, d, []string{"2026-11-01", "2026-11-02"}, 9)
	m, err := PeriodSignOffs{DB: d}.Day(context.Background(), "2026-11-02")
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 6 {
		t.Fatalf("%d sign-offs, want 6", len(m))
	}
	if got := m[period.DayKey{Outlet: "TY0000", Counter: "TY0000-00"}]; got != (period.SignOff{Status: period.SignApproved, RunID: "run-2026-11-02"}) {
		t.Errorf("approved: %+v", got)
	}
	if got := m[period.DayKey{Outlet: "TY0000", Counter: "TY0000-01"}]; got != (period.SignOff{Status: period.SignCertified, RunID: "run-2026-11-02"}) {
		t.Errorf("certified: %+v", got)
	}
	if _, ok := m[period.DayKey{Outlet: "TY0000", Counter: "TY0000-02"}]; ok {
		t.Error("an open counter-day is listed")
	}
}

// BenchmarkPeriodSignOffs reads a month of a city's sign-offs (30 dates × 2,285 counters),
// as a period report does.
func BenchmarkPeriodSignOffs(b *testing.B) {
	d, err := Open(b.TempDir(), Options{Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	p, _ := period.Month("2026-11")
	fillDays(b, d, p.Dates(), 2285)
	so := PeriodSignOffs{DB: d}
	b.ResetTimer()
	for b.Loop() {
		for _, date := range p.Dates() {
			if _, err := so.Day(context.Background(), date); err != nil {
				b.Fatal(err)
			}
		}
	}
}
