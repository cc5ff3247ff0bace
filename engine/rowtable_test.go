package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/feed"
)

// withTxns returns rec with its txn_id column replaced by ids (rec is released).
func withTxns(t *testing.T, rec arrow.RecordBatch, f feed.ID, ids ...string) arrow.RecordBatch {
	t.Helper()
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(ids, nil)
	col := b.NewArray()
	defer col.Release()
	cols := append([]arrow.Array(nil), rec.Columns()...)
	cols[feed.Get(f).Col("txn_id")] = col
	out := array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
	rec.Release()
	return out
}

// TestTxnIndex: the revenue row of a txn_id is the last of the day's rows that have it
// (feed order, then row order), whether asked of the day's table or of a counter's
// (counterTxns) that holds an earlier row of it; a txn_id of another counter is found, one
// of none is not. Load sets a txn_id's second revenue row aside (DUPLICATE_TXN), so the
// rows are given their txn_ids after it.
func TestTxnIndex(t *testing.T) {
	cfg := NewConfig()
	cfg.Date = testDate
	lo, err := Load(context.Background(), cfg, dayOf(
		r(ORD, "txn_id=A|amount=1.00"),
		r(ORD, "txn_id=B|amount=2.00"),
		r(LP, "counter_id=C2|txn_id=C|amount=3.00"),
		r(LP, "counter_id=C2|txn_id=D|amount=4.00"),
		r(LP, "counter_id=C2|txn_id=E|amount=5.00"),
	))
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Release()
	lo.Feeds[ORD] = withTxns(t, lo.Feeds[ORD], ORD, "T1", "T2")
	lo.Feeds[LP] = withTxns(t, lo.Feeds[LP], LP, "T1", "T3", "T3")
	d := newDay(lo.l.day, lo.Feeds, lo.pulls, 0, nil, lo.l.lang)
	want := map[string]string{"T1": "local_payment 0", "T2": "order 1", "T3": "local_payment 2", "T4": "none"}
	show := func(rf ref, ok bool) string {
		if !ok {
			return "none"
		}
		return fmt.Sprintf("%s %d", rf.f, rf.row)
	}
	for id, w := range want {
		if got := show(d.revenue.lookup(id)); got != w {
			t.Errorf("day's table: %s is %s, want %s", id, got, w)
		}
	}
	c1 := d.cid[ORD][0]
	c2 := d.cid[LP][0]
	if d.counters[c1].counter != "C1" || d.counters[c2].counter != "C2" {
		t.Fatalf("counters numbered %v", d.counters)
	}
	ct := newCounterTxns(d)
	for _, c := range []int32{c1, c2, c1} {
		ct.counter(c, 10)
		if !ct.active {
			t.Fatalf("counter %d's table not filled", c)
		}
		for id, w := range want {
			if got := show(ct.lookup(id)); got != w {
				t.Errorf("counter %s's table: %s is %s, want %s", d.counters[c].counter, id, got, w)
			}
		}
	}
}
