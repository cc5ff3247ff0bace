package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"settle/money"
	"settle/period"
	"settle/store"
	"settle/workflow"
)

// The period over the workflow database: five days run from the command line, items of four
// of them explained, accepted or acknowledged on the pages' database, the fifth never seen
// by the pages. open_items.csv lists exactly the items not accepted or acknowledged (the
// fifth day's too: the period reconciles it), with age as of the period's end and overdue
// past the SLA of 3 days; ITEMS_OVERDUE fires once per counter with overdue items, counting
// them, its amount their sum; the close and the reopening are events of the workflow log,
// which verifies.
func TestPeriodOverWorkflow(t *testing.T) {
	st := t.TempDir()
	// Today is 2026-10-06 in Shanghai: the period's end 2026-10-05 is before it.
	t.Setenv("SOURCE_DATE_EPOCH", strconv.FormatInt(time.Date(2026, 10, 6, 4, 0, 0, 0, time.UTC).Unix(), 10))
	src := "demo?outlets=2&counters=2&seed=5&anomalies=0.5"
	dates := []string{"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05"}
	for _, d := range dates {
		if code, _, errs := settle(t, "run", "--date", d, "--source", src, "--formats", "", "--store", st, "--quiet"); code != exitOK && code != exitIncomplete {
			t.Fatalf("run %s: exit %d %s", d, code, errs)
		}
	}
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 10, 6, 4, 0, 0, 0, time.UTC) }
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	db, err := workflow.Open(st, workflow.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dates[:4] {
		if err := db.Sync(ctx, s, d); err != nil {
			t.Fatal(err)
		}
	}
	its, err := db.Items(ctx, workflow.Filter{From: dates[0], To: dates[3]})
	if err != nil {
		t.Fatal(err)
	}
	if len(its) < 8 {
		t.Fatalf("only %d items in four days: the fixture needs more anomalies", len(its))
	}
	// Every third item explained, every third of those then accepted, every fifth warning
	// acknowledged: the rest stay open.
	closed := map[int64]bool{}
	state := map[int64]string{}
	actor := workflow.Actor{User: "u", Role: "reviewer"}
	for i, it := range its {
		state[it.ID] = workflow.StateOpen
		switch {
		case i%3 == 0:
			c := []workflow.Change{{ID: it.ID, Action: workflow.ActExplain, Reason: "OTHER", Text: "补款单 123"}}
			if _, err := db.Apply(ctx, actor, c, nil); err != nil {
				t.Fatal(err)
			}
			state[it.ID] = workflow.StateExplained
			if i%9 == 0 {
				// Another reviewer decides (four eyes).
				other := workflow.Actor{User: "v", Role: "reviewer"}
				if _, err := db.Apply(ctx, other, []workflow.Change{{ID: it.ID, Action: workflow.ActAccept}}, nil); err != nil {
					t.Fatal(err)
				}
				closed[it.ID] = true
			}
		case !it.IsError() && i%5 == 0:
			if _, err := db.Apply(ctx, actor, []workflow.Change{{ID: it.ID, Action: workflow.ActAcknowledge}}, nil); err != nil {
				t.Fatal(err)
			}
			closed[it.ID] = true
		}
	}
	if syncedID, _ := db.Synced(ctx, dates[4]); syncedID != "" {
		t.Fatalf("%s synced before the period: %s", dates[4], syncedID)
	}
	db.Close()

	if code, _, errs := settle(t, "period", "--from", dates[0], "--to", dates[4], "--store", st, "--quiet", "--formats", ""); code != exitOK && code != exitIncomplete {
		t.Fatalf("period: exit %d %s", code, errs)
	}
	db, err = workflow.Open(st, workflow.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cur, ok, err := s.Current(dates[4])
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if syncedID, _ := db.Synced(ctx, dates[4]); syncedID != filepath.Base(cur) {
		t.Errorf("%s: the period did not reconcile the date's items (synced %q)", dates[4], syncedID)
	}
	fifth, err := db.Items(ctx, workflow.Filter{From: dates[4], To: dates[4]})
	if err != nil {
		t.Fatal(err)
	}
	if len(fifth) == 0 {
		t.Fatalf("%s: no items after the period", dates[4])
	}
	// What open_items.csv must hold: every item of the first four days not closed above, and
	// every item of the fifth (all open), keyed by identity.
	type row struct{ state, overdue string }
	want := map[string]row{}
	overdueN := map[string]int{}
	overdueSum := map[string]int64{}
	key := func(date, counter, code, txn string) string { return date + "|" + counter + "|" + code + "|" + txn }
	add := func(it *workflow.Item, st string) {
		k := key(it.Date, it.Counter, it.Code, it.TxnID)
		age := map[string]int{"2026-10-01": 4, "2026-10-02": 3, "2026-10-03": 2, "2026-10-04": 1, "2026-10-05": 0}[it.Date]
		r := row{st, "no"}
		if age > 3 {
			r.overdue = "yes"
			overdueN[it.Counter]++
			overdueSum[it.Counter] += it.Amount
		}
		if _, dup := want[k]; dup {
			k += fmt.Sprintf("#%d", it.ID) // same identity twice (n > 0): compare counts below
		}
		want[k] = r
	}
	for _, it := range its {
		if !closed[it.ID] {
			add(it, state[it.ID])
		}
	}
	for _, it := range fifth {
		add(it, workflow.StateOpen)
	}
	t.Logf("%d items of four days (%d closed), %d of the fifth; %d open at the end, overdue by counter %v", len(its), len(closed), len(fifth), len(want), overdueN)
	dir := filepath.Join(st, "periods", dates[0]+"_"+dates[4], "current")
	rows := readCSV(t, filepath.Join(dir, "open_items.csv"))
	if got := strings.Join(rows[0], ","); got != strings.Join(period.OpenItemsHeader, ",") {
		t.Fatalf("open_items.csv header %q", got)
	}
	if len(rows)-1 != len(want) {
		t.Errorf("open_items.csv: %d rows, want %d", len(rows)-1, len(want))
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		k := key(r[0], r[3], r[4], r[5])
		w, ok := want[k]
		if !ok || seen[k] {
			t.Errorf("open_items.csv row %v: not expected", r)
			continue
		}
		seen[k] = true
		if r[6] != w.state || r[9] != w.overdue {
			t.Errorf("open_items.csv row %v: state %s overdue %s, want %s %s", r, r[6], r[9], w.state, w.overdue)
		}
		d, _ := time.Parse(time.DateOnly, r[0])
		if age, _ := strconv.Atoi(r[8]); age != int(time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC).Sub(d).Hours()/24) {
			t.Errorf("open_items.csv row %v: age %s", r, r[8])
		}
	}
	if len(overdueN) == 0 {
		t.Fatal("no overdue item: the fixture needs open items on the first day")
	}
	got := map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(dir, "period_findings.csv"))[1:] {
		if r[2] != period.CodeItemsOverdue {
			continue
		}
		c := r[6]
		got[c] = true
		amount, err := money.Parse(strings.TrimPrefix(r[7], "-"))
		if strings.HasPrefix(r[7], "-") {
			amount = -amount
		}
		if err != nil || amount != overdueSum[c] || r[3] != "WARNING" || !strings.Contains(r[8], strconv.Itoa(overdueN[c])) {
			t.Errorf("ITEMS_OVERDUE %v: want amount %s, %d items", r, money.Format(overdueSum[c]), overdueN[c])
		}
	}
	for c := range overdueN {
		if !got[c] {
			t.Errorf("counter %s has %d overdue items and no ITEMS_OVERDUE", c, overdueN[c])
		}
	}
	if len(got) != len(overdueN) {
		t.Errorf("ITEMS_OVERDUE for %v, want exactly %v", got, overdueN)
	}

	// Close and reopen: both in the workflow log, which verifies.
	if code, _, errs := settle(t, "period", "close", "--from", dates[0], "--to", dates[4], "--store", st, "--by", "财务 王", "--comment", "月结"); code != exitOK {
		t.Fatalf("close: exit %d %s", code, errs)
	}
	if code, _, errs := settle(t, "period", "reopen", "--from", dates[0], "--to", dates[4], "--store", st, "--by", "王", "--comment", "补录"); code != exitOK {
		t.Fatalf("reopen: exit %d %s", code, errs)
	}
	evs, err := db.PeriodEvents(ctx, dates[0]+"_"+dates[4])
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].Action != workflow.ActPeriodClose || evs[1].User != "财务 王" || evs[1].Comment != "月结" || evs[1].RunID == "" ||
		evs[0].Action != workflow.ActPeriodReopen || evs[0].Comment != "补录" || evs[0].RunID != evs[1].RunID {
		t.Errorf("period events = %+v", evs)
	}
	if err := db.Verify(ctx); err != nil {
		t.Errorf("verify: %v", err)
	}
}
