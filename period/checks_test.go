package period

import (
	"fmt"
	"testing"
	"time"

	"settle/internal/i18n"
)

var testKey = CounterKey{"TY", "TY0001", "TY0001-01"}

func dateN(i int) string {
	return time.Date(2026, 11, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// seriesOf builds a counter's days from one variance per day (pay method pay; 0 = no line).
func seriesOf(pay string, vs ...int64) *Series {
	s := &Series{Key: testKey}
	for i, v := range vs {
		d := Day{Date: dateN(i), Complete: true, Sign: SignApproved, HasFigures: true}
		if v != 0 {
			d.Variances = []VarLine{{Pay: pay, Variance: v}}
		}
		s.Days = append(s.Days, d)
	}
	return s
}

var zh = checker{lang: i18n.Zh, limit: DefaultShortfallLimit}

func TestShortfallRecurrent(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *Series
		fire bool
		sum  int64
	}{
		{"two short dates", seriesOf("POS", -100, 0, -200, 300), false, 0},
		{"three short dates", seriesOf("POS", -100, 0, -200, 300, -1), true, -301},
		// Two pay methods short on one date count that date once.
		{"one date, three methods", &Series{Key: testKey, Days: []Day{{Date: dateN(0), Variances: []VarLine{{"CASH", -1}, {"POS", -2}, {"WECHAT", -3}}}}}, false, 0},
		{"any pay method", &Series{Key: testKey, Days: []Day{
			{Date: dateN(0), Variances: []VarLine{{"CASH", -1}}},
			{Date: dateN(1), Variances: []VarLine{{"POS", -2}, {"CASH", 5}}},
			{Date: dateN(2), Variances: []VarLine{{"ALIPAY", -3}}}}}, true, -6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := zh.shortfallRecurrent(tc.s)
			if (len(got) == 1) != tc.fire {
				t.Fatalf("fired %d findings, want fire=%v", len(got), tc.fire)
			}
			if tc.fire && (got[0].Amount != tc.sum || got[0].Code != CodeShortfallRecurrent || got[0].Severity != SevError) {
				t.Errorf("got %+v, want amount %d", got[0], tc.sum)
			}
		})
	}
}

func TestShortfallCumulative(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int64
		vs    []int64
		fire  bool
	}{
		{"-499.99", DefaultShortfallLimit, []int64{-49999}, false},
		{"-500.00", DefaultShortfallLimit, []int64{-50000}, true},
		{"-500.01 over days", DefaultShortfallLimit, []int64{-25000, 0, -25001}, true},
		{"overs do not offset", DefaultShortfallLimit, []int64{-30000, 90000, -20000}, true},
		{"-499.99 with overs", DefaultShortfallLimit, []int64{-30000, 1, -19999}, false},
		{"limit 100.00: -99.99", 10000, []int64{-9999}, false},
		{"limit 100.00: -100.00", 10000, []int64{-10000}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := checker{lang: i18n.Zh, limit: tc.limit}
			got := c.shortfallCumulative(seriesOf("CASH", tc.vs...))
			if (len(got) == 1) != tc.fire {
				t.Fatalf("fired %d, want %v", len(got), tc.fire)
			}
			if tc.fire {
				var want int64
				for _, v := range tc.vs {
					want += min(v, 0)
				}
				if got[0].Amount != want {
					t.Errorf("amount %d, want %d", got[0].Amount, want)
				}
			}
		})
	}
}

func TestAlternating(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pay        string
		vs         []int64
		fire       bool
		sum        int64
		first, end string // dates of the reported run
	}{
		{"run of 3", "CASH", []int64{-1, 2, -3}, false, 0, "", ""},
		{"run of 4", "CASH", []int64{-1, 2, -3, 4}, true, 10, dateN(0), dateN(3)},
		{"over first", "CASH", []int64{5, -1, 2, -3}, true, 11, dateN(0), dateN(3)},
		{"zero days are skipped", "CASH", []int64{-1, 0, 2, 0, 0, -3, 4}, true, 10, dateN(0), dateN(6)},
		{"broken by same sign", "CASH", []int64{-1, 2, -3, -4, 5, -6}, false, 0, "", ""},
		{"longest wins", "CASH", []int64{-1, 2, -3, 4, 4, -10, 20, -30, 40, -50}, true, 154, dateN(4), dateN(9)},
		{"first of two as long", "CASH", []int64{-1, 2, -3, 4, 4, -10, 20, -30}, true, 10, dateN(0), dateN(3)},
		{"not cash", "POS", []int64{-1, 2, -3, 4}, false, 0, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := zh.alternating(seriesOf(tc.pay, tc.vs...))
			if (len(got) == 1) != tc.fire {
				t.Fatalf("fired %d, want %v", len(got), tc.fire)
			}
			if !tc.fire {
				return
			}
			f := got[0]
			if f.Amount != tc.sum || f.Severity != SevWarning {
				t.Errorf("amount %d severity %s, want %d WARNING", f.Amount, f.Severity, tc.sum)
			}
			want := i18n.Zh.F(i18n.PeriodDetailAlternating, countNonZero(tc.vs, tc.first, tc.end), tc.first, tc.end)
			if f.Detail != want {
				t.Errorf("detail %q, want %q", f.Detail, want)
			}
		})
	}
}

// countNonZero counts the non-zero variances dated first..end (the run's length).
func countNonZero(vs []int64, first, end string) int {
	n := 0
	for i, v := range vs {
		if v != 0 && dateN(i) >= first && dateN(i) <= end {
			n++
		}
	}
	return n
}

func TestRefundNearLimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		amounts []int64
		fire    bool
		sum     int64
	}{
		{"89.99 is below the band", []int64{8999, 9000, 10000}, false, 0},
		{"100.01 is above it", []int64{10001, 9000, 10000}, false, 0},
		{"90.00 and 100.00 are in", []int64{9000, 10000, 9500}, true, 28500},
		{"edges all in", []int64{8999, 9000, 10000, 10001, 10000}, true, 29000},
		{"two only", []int64{9000, 10000}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Series{Key: testKey}
			for i, a := range tc.amounts {
				s.Days = append(s.Days, Day{Date: dateN(i), Refunds: []Refund{{TxnID: fmt.Sprint("R", i), Amount: a}}})
			}
			got := zh.refundNearLimit(s)
			if (len(got) == 1) != tc.fire {
				t.Fatalf("fired %d, want %v", len(got), tc.fire)
			}
			if tc.fire && got[0].Amount != tc.sum {
				t.Errorf("amount %d, want %d", got[0].Amount, tc.sum)
			}
		})
	}
}

func TestNotApprovedAndIncomplete(t *testing.T) {
	s := &Series{Key: testKey, Days: []Day{
		{Date: dateN(0), Sign: SignApproved, HasFigures: true, Complete: true},
		{Date: dateN(1), Sign: SignCertified, HasFigures: true, Complete: true},
		{Date: dateN(2), Sign: SignOpen, HasFigures: false, Complete: false, RunID: "r2"}, // no figures: not counted
		{Date: dateN(3), Sign: SignOpen, HasFigures: true, Complete: true},
	}}
	got := zh.notApproved(s)
	if len(got) != 1 || got[0].Detail != i18n.Zh.F(i18n.PeriodDetailNotApproved, 2, dateN(1)+","+dateN(3)) || got[0].HasAmount {
		t.Errorf("notApproved = %+v", got)
	}
	all := &Series{Key: testKey, Days: []Day{{Date: dateN(0), Sign: SignApproved, HasFigures: true}}}
	if got := zh.notApproved(all); len(got) != 0 {
		t.Errorf("all approved: %+v", got)
	}
	inc := zh.dayIncomplete(s)
	if len(inc) != 1 || inc[0].Code != CodeDayIncomplete || inc[0].Detail != dateN(2)+" "+i18n.Zh.F(i18n.PeriodDetailDayIncomplete, "r2") {
		t.Errorf("dayIncomplete = %+v", inc)
	}
}

func TestDayMissing(t *testing.T) {
	got := zh.dayMissing([]string{dateN(4), dateN(5)}, []string{"TY"})
	if len(got) != 2 || got[0].City != "TY" || got[0].Counter != "" || got[1].Detail != i18n.Zh.F(i18n.PeriodDetailDayMissing, dateN(5)) {
		t.Errorf("dayMissing = %+v", got)
	}
	if got := zh.dayMissing(nil, []string{"TY"}); len(got) != 0 {
		t.Errorf("no missing dates: %+v", got)
	}
}

func TestItemsOverdue(t *testing.T) {
	items := []Item{
		{Date: dateN(0), City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Amount: 500, Overdue: true},
		{Date: dateN(1), City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Amount: 700, Overdue: true},
		{Date: dateN(2), City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Amount: 900, Overdue: false},
		{Date: dateN(2), City: "TY", Outlet: "TY0001", Counter: "TY0001-02", Amount: 900, Overdue: false},
	}
	got := zh.itemsOverdue(items)
	if len(got) != 1 || got[0].Counter != "TY0001-01" || got[0].Amount != 1200 || got[0].Detail != i18n.Zh.F(i18n.PeriodDetailItemsOverdue, 2) {
		t.Errorf("itemsOverdue = %+v", got)
	}
	if got := zh.itemsOverdue(nil); len(got) != 0 {
		t.Errorf("NoItems: %+v", got)
	}
}

func TestMonth(t *testing.T) {
	for ym, want := range map[string]Period{"2026-11": {"2026-11-01", "2026-11-30"}, "2028-02": {"2028-02-01", "2028-02-29"}, "2026-12": {"2026-12-01", "2026-12-31"}} {
		if got, err := Month(ym); err != nil || got != want {
			t.Errorf("Month(%s) = %v, %v", ym, got, err)
		}
	}
	for _, bad := range []string{"2026-13", "2026-1", "26-11", ""} {
		if _, err := Month(bad); err == nil {
			t.Errorf("Month(%q): no error", bad)
		}
	}
	if n := len((Period{"2026-11-01", "2026-11-30"}).Dates()); n != 30 {
		t.Errorf("Dates: %d", n)
	}
}
