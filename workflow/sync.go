package workflow

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/engine"
	"settle/feed"
	"settle/store"
)

// place is a counter-day, or an outlet's or the city's findings of no counter.
type place struct{ outlet, counter string }

// placeOf is where an exception's item belongs: its counter; with no valid counter, its
// outlet when valid, else the city (both empty).
func placeOf(e *engine.Exception) place {
	if feed.ValidID(e.Counter) && feed.ValidID(e.Outlet) {
		return place{e.Outlet, e.Counter}
	}
	if feed.ValidID(e.Outlet) {
		return place{e.Outlet, ""}
	}
	return place{"", ""}
}

// placeIn is placeOf within a run whose counters are at the outlets of outletOf: a finding
// whose counter is one of them is that counter's, under the counter's outlet, whatever outlet
// the row carried (a malformed one included), as the run's reports count it (RULES.md §1
// "Whose row it is"; web's runs key findings by counter).
func placeIn(e *engine.Exception, outletOf map[string]string) place {
	if feed.ValidID(e.Counter) {
		if o, ok := outletOf[e.Counter]; ok {
			return place{o, e.Counter}
		}
	}
	return placeOf(e)
}

// outletsOf maps each counter of a run to its outlet: from its settlement and variance lines,
// then from findings carrying a valid outlet and counter.
func outletsOf(t *store.Tables) map[string]string {
	m := map[string]string{}
	add := func(outlet, counter string) {
		if _, ok := m[counter]; !ok && feed.ValidID(outlet) && feed.ValidID(counter) {
			m[counter] = outlet
		}
	}
	for _, l := range t.Settlement {
		add(l.Outlet, l.Counter)
	}
	for _, l := range t.Variance {
		add(l.Outlet, l.Counter)
	}
	for _, e := range t.Exceptions {
		add(e.Outlet, e.Counter)
	}
	return m
}

type ident struct {
	code, feed, txn, key string
	n                    int
}

// Synced returns the run id the date's items were last reconciled with ("" never).
func (d *DB) Synced(ctx context.Context, date string) (string, error) {
	v, _, err := d.getMeta(ctx, d.db, "synced:"+date)
	return v, err
}

// Sync reconciles the date's items with its runs of record: each counter-day's pinned run
// while it is certified or approved, else the date's current run (findings of no counter:
// always the current run). An item a run of record raises and the database lacks is added
// (open); one it no longer raises is resolved (with the run's id) unless accepted or
// acknowledged; a resolved one it raises again, or an accepted one raised again after a run
// that did not raise it, is open again. It does nothing when the date has no run, or when
// its current run was reconciled already and no sign-off changed since.
func (d *DB) Sync(ctx context.Context, st *store.Store, date string) error {
	curDir, ok, err := st.Current(date)
	if err != nil || !ok {
		return err
	}
	curID := filepath.Base(curDir)
	if done, err := d.Synced(ctx, date); err != nil {
		return err
	} else if done == curID {
		return nil
	}
	// The runs of record, read outside the transaction.
	days, err := d.Days(ctx, date, date)
	if err != nil {
		return err
	}
	pinned := map[place]string{}
	for _, y := range days {
		if y.Pinned() {
			pinned[place{y.Outlet, y.Counter}] = y.RunID
		}
	}
	runs := map[string]*store.Tables{}
	load := func(id string) (*store.Tables, error) {
		if t, ok := runs[id]; ok {
			return t, nil
		}
		t, err := readTables(st, date, id)
		if err != nil {
			return nil, err
		}
		runs[id] = t
		return t, nil
	}

	// Every counter of the current run is a counter-day of the date (for the queues).
	counters := map[place]bool{}
	curT, err := readTables(st, date, curID)
	if err != nil {
		return fmt.Errorf("sync %s: %w", date, err)
	}
	cur := curT.Exceptions
	runs[curID] = curT
	curOutlets := outletsOf(curT)
	{
		t := curT
		for _, l := range t.Settlement {
			counters[place{l.Outlet, l.Counter}] = true
		}
		for _, l := range t.Variance {
			counters[place{l.Outlet, l.Counter}] = true
		}
	}
	raised := map[place][]engine.Exception{}
	recordOf := map[place]string{}
	for i := range cur {
		p := placeIn(&cur[i], curOutlets)
		if _, pin := pinned[p]; pin {
			continue
		}
		raised[p] = append(raised[p], cur[i])
		recordOf[p] = curID
	}
	for p, id := range pinned {
		pt, err := load(id)
		if err != nil {
			// A pinned run gone from the store: its items stay as they are.
			d.log.Warn("workflow sync: pinned run unreadable", "date", date, "counter", p.counter, "run_id", id, "err", err)
			recordOf[p] = ""
			continue
		}
		recordOf[p] = id
		ex, outlets := pt.Exceptions, outletsOf(pt)
		for i := range ex {
			if placeIn(&ex[i], outlets) == p {
				raised[p] = append(raised[p], ex[i])
			}
		}
	}
	return d.tx(ctx, func(t *sql.Tx) error {
		// Places with items in the database but nothing raised now.
		rows, err := t.QueryContext(ctx, `SELECT DISTINCT outlet, counter FROM items WHERE date=?`, date)
		if err != nil {
			return err
		}
		var known []place
		for rows.Next() {
			var p place
			if err := rows.Scan(&p.outlet, &p.counter); err != nil {
				rows.Close()
				return err
			}
			known = append(known, p)
		}
		rows.Close()
		for _, p := range known {
			if _, ok := recordOf[p]; !ok {
				recordOf[p] = curID
			}
		}
		for p := range recordOf {
			if p.counter != "" {
				counters[p] = true
			}
		}
		for p := range counters {
			if !feed.ValidID(p.outlet) || !feed.ValidID(p.counter) {
				continue
			}
			if _, err := t.ExecContext(ctx, `INSERT INTO days(date, outlet, counter, status) VALUES (?,?,?,'open') ON CONFLICT DO NOTHING`,
				date, p.outlet, p.counter); err != nil {
				return err
			}
		}
		places := make([]place, 0, len(recordOf))
		for p := range recordOf {
			places = append(places, p)
		}
		slices.SortFunc(places, func(a, b place) int {
			return cmp.Or(cmp.Compare(a.outlet, b.outlet), cmp.Compare(a.counter, b.counter))
		})
		for _, p := range places {
			if recordOf[p] == "" {
				continue
			}
			if err := d.syncPlace(ctx, t, date, p, recordOf[p], raised[p]); err != nil {
				return fmt.Errorf("sync %s %s/%s: %w", date, p.outlet, p.counter, err)
			}
		}
		_, err = t.ExecContext(ctx, `INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v=excluded.v`, "synced:"+date, curID)
		return err
	})
}

func (d *DB) syncPlace(ctx context.Context, t *sql.Tx, date string, p place, runID string, ex []engine.Exception) error {
	slices.SortStableFunc(ex, func(a, b engine.Exception) int {
		return cmp.Or(cmp.Compare(a.Code, b.Code), cmp.Compare(a.Feed, b.Feed), cmp.Compare(a.TxnID, b.TxnID),
			cmp.Compare(a.Key, b.Key), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Detail, b.Detail))
	})
	want := map[ident]*engine.Exception{}
	var order []ident
	for i := range ex {
		e := &ex[i]
		id := ident{string(e.Code), e.Feed, e.TxnID, e.Key, 0}
		for want[id] != nil {
			id.n++
		}
		want[id] = e
		order = append(order, id)
	}
	rows, err := t.QueryContext(ctx, `SELECT `+itemCols+` FROM items WHERE date=? AND outlet=? AND counter=?`, date, p.outlet, p.counter)
	if err != nil {
		return err
	}
	have := map[ident]*Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			rows.Close()
			return err
		}
		have[ident{it.Code, it.Feed, it.TxnID, it.Key, it.N}] = it
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	sys := func(it *Item, action, to string) error {
		_, err := d.appendTx(ctx, t, Event{User: SystemUser, Role: "system", Action: action, Date: date, Outlet: p.outlet,
			Counter: p.counter, RunID: runID, Item: it.Ref(), From: it.State, To: to})
		return err
	}
	for _, id := range order {
		e := want[id]
		it, ok := have[id]
		if !ok {
			_, err := t.ExecContext(ctx, `INSERT INTO items(date, outlet, counter, code, feed, txn_id, key, n, city, severity,
				amount, has_amount, detail, source, state, present, run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?)`,
				date, p.outlet, p.counter, id.code, id.feed, id.txn, id.key, id.n, e.City, string(e.Severity), e.Amount,
				boolInt(e.HasAmount), e.Detail, e.Source, StateOpen, runID)
			if err != nil {
				return err
			}
			continue
		}
		state := it.State
		if state == StateResolved || (state == StateAccepted && !it.Present) {
			if err := sys(it, ActReraise, StateOpen); err != nil {
				return err
			}
			state = StateOpen
		}
		if state == it.State && it.Present && it.RunID == runID && it.Detail == e.Detail && it.Amount == e.Amount && it.Severity == string(e.Severity) {
			continue
		}
		if _, err := t.ExecContext(ctx, `UPDATE items SET state=?, present=1, run_id=?, city=?, severity=?, amount=?, has_amount=?,
			detail=?, source=?, version=version+1 WHERE id=?`, state, runID, e.City, string(e.Severity), e.Amount, boolInt(e.HasAmount),
			e.Detail, e.Source, it.ID); err != nil {
			return err
		}
	}
	for id, it := range have {
		if want[id] != nil || !it.Present {
			continue
		}
		state := it.State
		if state == StateOpen || state == StateExplained || state == StateRejected {
			if err := sys(it, ActResolve, StateResolved); err != nil {
				return err
			}
			state = StateResolved
		}
		if _, err := t.ExecContext(ctx, `UPDATE items SET state=?, present=0, run_id=?, version=version+1 WHERE id=?`, state, runID, it.ID); err != nil {
			return err
		}
	}
	return nil
}

// readTables reads a run's tables (a run is read once per Sync: the current run's are kept).
func readTables(st *store.Store, date, id string) (*store.Tables, error) {
	dir, err := st.RunDir(date, id)
	if err != nil {
		return nil, err
	}
	s, err := store.OpenStored(dir)
	if err != nil {
		return nil, err
	}
	return s.ReadTables(memory.NewGoAllocator())
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Unsync forgets that date was reconciled, so that the next Sync reads its runs again (after
// a return or reopening changes a counter-day's run of record).
func (d *DB) unsyncTx(ctx context.Context, t *sql.Tx, date string) error {
	_, err := t.ExecContext(ctx, `DELETE FROM meta WHERE k=?`, "synced:"+date)
	return err
}

var _ = errors.New

// IdentKey is an item's identity within its place and date.
type IdentKey struct {
	Code, Feed, TxnID, Key string
	N                      int
}

// KeyOf is the identity of an item reference.
func (r ItemRef) KeyOf() IdentKey { return IdentKey{r.Code, r.Feed, r.TxnID, r.Key, r.N} }

// Findings maps the exceptions of one run that are items of outlet and counter (counter
// empty: the outlet's or the city's findings of no counter) by their identity, numbered as
// Sync numbers them: so the certified report takes each item's finding from the run alone.
func Findings(ex []engine.Exception, outlet, counter string) map[IdentKey]engine.Exception {
	var mine []engine.Exception
	outlets := map[string]string{counter: outlet}
	for i := range ex {
		if placeIn(&ex[i], outlets) == (place{outlet, counter}) {
			mine = append(mine, ex[i])
		}
	}
	slices.SortStableFunc(mine, func(a, b engine.Exception) int {
		return cmp.Or(cmp.Compare(a.Code, b.Code), cmp.Compare(a.Feed, b.Feed), cmp.Compare(a.TxnID, b.TxnID),
			cmp.Compare(a.Key, b.Key), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Detail, b.Detail))
	})
	out := map[IdentKey]engine.Exception{}
	for _, e := range mine {
		k := IdentKey{string(e.Code), e.Feed, e.TxnID, e.Key, 0}
		for {
			if _, ok := out[k]; !ok {
				break
			}
			k.N++
		}
		out[k] = e
	}
	return out
}
