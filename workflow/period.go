package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"settle/engine"
	"settle/period"
	"settle/store"
)

// The month-end close over the workflow database (PERIOD.md, issues 14–15): where `settle
// period` and the period page find the sign-offs (PeriodSignOffs), the items open at the
// period's end (PeriodItems) and the tamper-evident trail of closings (PeriodTrail).

// PeriodSignOffs is period.SignOffs over the database: a date's certified and approved
// counter-days with the run each pins, in one query per date.
type PeriodSignOffs struct{ DB *DB }

// Day returns the date's pinned counter-days (open ones are left out).
func (s PeriodSignOffs) Day(ctx context.Context, date string) (map[period.DayKey]period.SignOff, error) {
	rows, err := s.DB.db.QueryContext(ctx, `SELECT outlet, counter, status, run_id FROM days WHERE date = ? AND status IN (?, ?)`,
		date, StatusCertified, StatusApproved)
	if err != nil {
		return nil, fmt.Errorf("workflow %q: sign-offs of %s: %w", s.DB.path, date, err)
	}
	defer rows.Close()
	out := map[period.DayKey]period.SignOff{}
	for rows.Next() {
		var k period.DayKey
		var status, run string
		if err := rows.Scan(&k.Outlet, &k.Counter, &status, &run); err != nil {
			return nil, fmt.Errorf("workflow %q: sign-offs of %s: %w", s.DB.path, date, err)
		}
		so := period.SignOff{Status: period.SignCertified, RunID: run}
		if status == StatusApproved {
			so.Status = period.SignApproved
		}
		out[k] = so
	}
	return out, rows.Err()
}

// PeriodItems is period.Items over the database. Open first reconciles every date of the
// period with its runs of record (Sync: a run published by `settle run` from the command
// line has its items too, not only the runs the pages saw), then lists the items the runs of
// record raise that are open, explained or rejected, with their age on the period's last
// date, or today when that is earlier, and overdue when the age exceeds the SLA.
type PeriodItems struct {
	DB    *DB
	Store *store.Store
}

// periodOpenStates are the states an item needs somebody in (WORKFLOW.md).
var periodOpenStates = []string{StateOpen, StateExplained, StateRejected}

// Open lists the period's items not accepted, resolved or acknowledged.
func (s PeriodItems) Open(ctx context.Context, p period.Period, asOf string) ([]period.Item, error) {
	if s.Store != nil {
		for _, date := range p.Dates() {
			if err := s.DB.Sync(ctx, s.Store, date); err != nil {
				return nil, fmt.Errorf("items of %s: %w", date, err)
			}
		}
	}
	its, err := s.DB.Items(ctx, Filter{From: p.From, To: p.To, States: periodOpenStates, PresentOnly: true})
	if err != nil {
		return nil, err
	}
	at := s.DB.today()
	if t, err := time.ParseInLocation(time.DateOnly, asOf, engine.Shanghai); err == nil && t.Before(at) {
		at = t
	}
	out := make([]period.Item, 0, len(its))
	for _, it := range its {
		age := AgeOf(it.Date, at)
		out = append(out, period.Item{Date: it.Date, City: it.City, Outlet: it.Outlet, Counter: it.Counter,
			Code: it.Code, TxnID: it.TxnID, State: it.State, Amount: it.Amount, Age: age, Overdue: age > s.DB.sla})
	}
	return out, nil
}

// PeriodTrail is period.Trail over the database's log: a close or reopening is an event of
// the chain (ActPeriodClose, ActPeriodReopen), MACed like every other.
type PeriodTrail struct{ DB *DB }

// Append records e.
func (t PeriodTrail) Append(ctx context.Context, e period.TrailEvent) error {
	action := ""
	switch e.Action {
	case period.ActionClose:
		action = ActPeriodClose
	case period.ActionReopen:
		action = ActPeriodReopen
	default:
		return fmt.Errorf("period trail: unknown action %q", e.Action)
	}
	if e.By == "" {
		return errors.New("period trail: who closes or reopens is required")
	}
	_, err := t.DB.Append(ctx, Event{Time: e.Time, User: e.By, Role: "period", Action: action, Period: e.Period,
		RunID: e.RunID, Comment: e.Comment})
	return err
}

// PeriodEvents returns the closings and reopenings of period name (<from>_<to>), newest first.
func (d *DB) PeriodEvents(ctx context.Context, name string) ([]Event, error) {
	var out []Event
	for _, a := range []string{ActPeriodClose, ActPeriodReopen} {
		evs, err := d.Events(ctx, EventFilter{Action: a, Limit: 10000})
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			if e.Period == name {
				out = append(out, e)
			}
		}
	}
	sortNewest(out)
	return out, nil
}

func sortNewest(evs []Event) {
	slices.SortFunc(evs, func(a, b Event) int { return cmp.Compare(b.Seq, a.Seq) })
}
