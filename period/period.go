// Package period is the month-end close (月结, PERIOD.md): it turns the runs already
// published for a range of business dates into the period report (sums per counter, the
// day-by-day picture, the period checks, open items, XLSX and PDF reports), publishes it
// under <store>/periods/<from>_<to>/ like a day's run, and records the period's closing and
// reopening. It never pulls a feed.
//
// Where a counter-day's figures come from is decided in one place (load.go): the run an
// approval pins, else the run a certification pins, else the date's current run. The
// sign-offs, the open items and the close/reopen trail come through the small interfaces
// of this file, so that the workflow database can replace today's sign-off log without
// touching the computation.
package period

import (
	"context"
	"fmt"
	"time"
)

// Period is a range of business dates, both ends included.
type Period struct{ From, To string }

// Month is the calendar month ym (YYYY-MM).
func Month(ym string) (Period, error) {
	t, err := time.Parse("2006-01", ym)
	if err != nil || t.Format("2006-01") != ym {
		return Period{}, fmt.Errorf("month %q: want YYYY-MM", ym)
	}
	return Period{From: t.Format(time.DateOnly), To: t.AddDate(0, 1, -1).Format(time.DateOnly)}, nil
}

// maxDays bounds a period: a year and a bit, so that a typo cannot ask for centuries.
const maxDays = 400

// Range is the period from..to (YYYY-MM-DD, from ≤ to, at most 400 days).
func Range(from, to string) (Period, error) {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil || f.Format(time.DateOnly) != from {
		return Period{}, fmt.Errorf("from %q: want YYYY-MM-DD", from)
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil || t.Format(time.DateOnly) != to {
		return Period{}, fmt.Errorf("to %q: want YYYY-MM-DD", to)
	}
	if t.Before(f) {
		return Period{}, fmt.Errorf("period %s to %s: to is before from", from, to)
	}
	if t.Sub(f) > maxDays*24*time.Hour {
		return Period{}, fmt.Errorf("period %s to %s: longer than %d days", from, to, maxDays)
	}
	return Period{From: from, To: to}, nil
}

// Name is the period's directory name: <from>_<to>.
func (p Period) Name() string { return p.From + "_" + p.To }

// Contains reports whether date (YYYY-MM-DD) lies in the period.
func (p Period) Contains(date string) bool { return p.From <= date && date <= p.To }

// Dates lists the period's dates in order.
func (p Period) Dates() []string {
	f, _ := time.Parse(time.DateOnly, p.From)
	t, _ := time.Parse(time.DateOnly, p.To)
	var out []string
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// Sign-off statuses of a counter-day, as period_days.csv writes them.
const (
	SignOpen      = "open"
	SignCertified = "certified"
	SignApproved  = "approved"
)

// DayKey names a counter of a date in a sign-off.
type DayKey struct{ Outlet, Counter string }

// SignOff is a counter-day's sign-off: its status and, when certified or approved, the run
// it pins.
type SignOff struct {
	Status string // SignOpen, SignCertified or SignApproved
	RunID  string // the pinned run; empty when open
}

// SignOffs tells where each counter-day of a date stands. Day returns the counter-days of
// date that are certified or approved (open ones may be left out). Today: the sign-off log
// (web/signoff); at merge: the workflow database's Pinned.
type SignOffs interface {
	Day(ctx context.Context, date string) (map[DayKey]SignOff, error)
}

// Item is one open item (WORKFLOW.md "Items") at the period's end.
type Item struct {
	Date, City, Outlet, Counter string
	Code, TxnID                 string
	State                       string // open, explained or rejected
	Amount                      int64  // fen; 0 where the finding has none
	Age                         int    // whole days from Date to the period's end
	Overdue                     bool
}

// Items lists the items of the period's dates that are not accepted, resolved or
// acknowledged at asOf (the period's last date), with their age then and whether they are
// overdue. Today no item store exists (the workflow database brings it): NoItems returns
// none, so open_items.csv has its header only and ITEMS_OVERDUE never fires until then.
type Items interface {
	Open(ctx context.Context, p Period, asOf string) ([]Item, error)
}

// NoItems is Items before the workflow database: no items at all.
type NoItems struct{}

// Open returns no items.
func (NoItems) Open(context.Context, Period, string) ([]Item, error) { return nil, nil }

// Trail actions.
const (
	ActionClose  = "close"
	ActionReopen = "reopen"
)

// TrailEvent is one closing or reopening of a period.
type TrailEvent struct {
	Time    time.Time `json:"time"`
	Action  string    `json:"action"` // ActionClose or ActionReopen
	Period  string    `json:"period"` // Period.Name()
	By      string    `json:"by"`
	Comment string    `json:"comment,omitempty"`
	RunID   string    `json:"run_id,omitempty"` // the period report of record at the close
}

// Trail records closings and reopenings in the tamper-evident log. Today: FileTrail
// (<store>/periods/periods.log, append-only); at merge: the workflow log.
type Trail interface {
	Append(ctx context.Context, e TrailEvent) error
}
