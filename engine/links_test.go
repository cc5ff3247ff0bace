package engine

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"settle/feed"
)

// TestStoredReversalsIndex checks the per-day index of storedReversals against a scan of
// each stored day's whole reversal feed, the way it was looked up before the index: same
// amounts in the same order for every original, look-back start and kind of mismatch
// (another feed, txn or orig_date; ties of txn_time broken by txn_id).
func TestStoredReversalsIndex(t *testing.T) {
	days := []string{"2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"}
	origDates := []string{"2026-11-16", "2026-11-17"}
	feeds := []string{"local_payment", "order"}
	txns := []string{"A", "B", "C"}
	hist := memHistory{}
	for di, date := range days {
		var rows []row
		for i := 0; i < 48; i++ {
			// Each original gets four rows, two at 00:00 and two at 01:00: txn_id, which
			// runs against the rows' order, breaks the ties.
			rows = append(rows, r(REV, fmt.Sprintf("txn_id=R%d-%02d|orig_feed=%s|orig_txn_id=%s|orig_date=%s|amount=%d.00|txn_time=%s 0%d:00:00",
				di, 47-i, feeds[i%2], txns[i%3], origDates[(i/6)%2], 1+i+100*di, date, i/24)))
		}
		hist[date] = storedDay(t, date, rows...)
	}
	cache := &histCache{h: hist, days: map[arrow.Date32]*histDay{}}
	defer cache.release()
	today := dayNumber(testDate)
	for _, od := range origDates {
		o, err := ParseDate(od)
		if err != nil {
			t.Fatal(err)
		}
		origDate := dayNumber(o)
		for from := origDate; from < today; from++ {
			for _, f := range feeds {
				for _, txn := range txns {
					k := origKey{f, txn}
					got, err := cache.storedReversals(from, today, k, origDate)
					if err != nil {
						t.Fatal(err)
					}
					want := scanStoredReversals(t, cache, from, today, k, origDate)
					if len(want) == 0 && from == origDate {
						t.Errorf("%s %s of %s: no stored reversals; the case tests nothing", f, txn, od)
					}
					if !slices.Equal(got, want) {
						t.Errorf("%s %s of %s from %s: got %v, want %v", f, txn, od, dateOf(from).Format("2006-01-02"), got, want)
					}
				}
			}
		}
	}
}

// scanStoredReversals is storedReversals as it was before the index: a scan of every stored
// day's reversal feed for each original.
func scanStoredReversals(t *testing.T, c *histCache, from, today arrow.Date32, k origKey, origDate arrow.Date32) []int64 {
	var out []int64
	for dd := from; dd < today; dd++ {
		hd, err := c.day(dd)
		if err != nil {
			t.Fatal(err)
		}
		if !hd.ok {
			continue
		}
		rec := hd.rev
		sch := feed.Get(feed.Reversal)
		of := rec.Column(sch.Col("orig_feed")).(*array.String)
		ot := rec.Column(sch.Col("orig_txn_id")).(*array.String)
		od := rec.Column(sch.Col("orig_date")).(*array.Date32).Date32Values()
		amt := rec.Column(sch.Col("amount")).(*array.Int64).Int64Values()
		tm := rec.Column(sch.Col("txn_time")).(*array.Timestamp).TimestampValues()
		id := rec.Column(sch.Col("txn_id")).(*array.String)
		var rows []int
		for r := 0; r < int(rec.NumRows()); r++ {
			if od[r] == origDate && of.Value(r) == k.feed && ot.Value(r) == k.txn {
				rows = append(rows, r)
			}
		}
		sort.SliceStable(rows, func(i, j int) bool {
			if tm[rows[i]] != tm[rows[j]] {
				return tm[rows[i]] < tm[rows[j]]
			}
			return id.Value(rows[i]) < id.Value(rows[j])
		})
		for _, r := range rows {
			out = append(out, amt[r])
		}
	}
	return out
}
