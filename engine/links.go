package engine

import (
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"settle/feed"
	"settle/internal/i18n"
	"settle/money"
)

// purchases applies RULES.md §4: purchase ↔ contract order, and IMEI reuse.
func (d *day) purchases() {
	contract := map[string]bool{}
	svc, orderID := d.str(feed.Order, "service_code"), d.str(feed.Order, "order_id")
	for r := 0; r < d.n(feed.Order); r++ {
		if svc.Value(r) == "CONTRACT" {
			contract[orderID.Value(r)] = true
		}
	}
	bought := map[string]bool{}
	pOrder := d.str(feed.Purchase, "order_id")
	for r := 0; r < d.n(feed.Purchase); r++ {
		bought[pOrder.Value(r)] = true
		if !contract[pOrder.Value(r)] {
			d.raise(feed.Purchase, r, CodePurchaseNoOrder, d.lang.f(i18n.DetailPurchaseNoOrder, quote(pOrder.Value(r))))
		}
	}
	for r := 0; r < d.n(feed.Order); r++ {
		if svc.Value(r) == "CONTRACT" && !bought[orderID.Value(r)] {
			d.raise(feed.Order, r, CodeOrderNoPurchase, d.lang.f(i18n.DetailOrderNoPurchase, quote(orderID.Value(r))))
		}
	}

	// IMEI_DUPLICATE: an earlier purchase of the same IMEI that today's reversals do not
	// fully reverse (purchases are in canonical order).
	imei, txn, amount := d.str(feed.Purchase, "imei"), d.str(feed.Purchase, "txn_id"), d.i64(feed.Purchase, "amount")
	open := map[string][]int{} // imei → earlier purchases not fully reversed
	for r := 0; r < d.n(feed.Purchase); r++ {
		if earlier := open[imei.Value(r)]; len(earlier) > 0 {
			e := earlier[0]
			d.raise(feed.Purchase, r, CodeIMEIDuplicate, d.lang.f(i18n.DetailIMEISold,
				quote(imei.Value(r)), txn.Value(e), d.source(feed.Purchase, e)))
		}
		if !d.fullyReversedToday(feed.Purchase, txn.Value(r), amount[r]) {
			open[imei.Value(r)] = append(open[imei.Value(r)], r)
		}
	}
}

// original is a reversal's original transaction, once found.
type original struct {
	amount int64
	pay    string
}

// histDay caches one stored day: whether a run of it is stored, its reversal feed, the
// txn_id indexes of the feeds looked up so far, and once asked for, its reversals by
// original.
type histDay struct {
	ok   bool
	rev  arrow.RecordBatch
	idx  map[feed.ID]map[string]original
	revs map[revKey][]int64 // nil until reversalsOf builds it
	recs []arrow.RecordBatch
}

// revKey names an original as a reversal does: orig_feed, orig_txn_id, orig_date.
type revKey struct {
	feed, txn string
	date      arrow.Date32
}

// reversalsOf returns the amounts of the stored day's reversals of one original, in
// (txn_time, txn_id) order. The first call indexes the day's reversal feed.
func (hd *histDay) reversalsOf(k revKey) []int64 {
	if hd.revs == nil {
		hd.revs = indexReversals(hd.rev)
	}
	return hd.revs[k]
}

// indexReversals groups the amounts of a reversal feed by original, each group in
// (txn_time, txn_id) order. Its keys are the record's strings: it lives no longer than
// the record.
func indexReversals(rec arrow.RecordBatch) map[revKey][]int64 {
	sch := feed.Get(feed.Reversal)
	of := rec.Column(sch.Col("orig_feed")).(*array.String)
	ot := rec.Column(sch.Col("orig_txn_id")).(*array.String)
	od := rec.Column(sch.Col("orig_date")).(*array.Date32).Date32Values()
	amt := rec.Column(sch.Col("amount")).(*array.Int64).Int64Values()
	tm := rec.Column(sch.Col("txn_time")).(*array.Timestamp).TimestampValues()
	id := rec.Column(sch.Col("txn_id")).(*array.String)
	rows := map[revKey][]int{}
	for r := 0; r < int(rec.NumRows()); r++ {
		k := revKey{of.Value(r), ot.Value(r), od[r]}
		rows[k] = append(rows[k], r)
	}
	out := make(map[revKey][]int64, len(rows))
	for k, rs := range rows {
		sort.SliceStable(rs, func(i, j int) bool {
			if tm[rs[i]] != tm[rs[j]] {
				return tm[rs[i]] < tm[rs[j]]
			}
			return id.Value(rs[i]) < id.Value(rs[j])
		})
		amts := make([]int64, len(rs))
		for i, r := range rs {
			amts[i] = amt[r]
		}
		out[k] = amts
	}
	return out
}

type histCache struct {
	h    History
	days map[arrow.Date32]*histDay
}

func (c *histCache) release() {
	for _, hd := range c.days {
		for _, r := range hd.recs {
			r.Release()
		}
	}
}

// day loads a stored day once; its reversal feed tells whether a run is stored (every
// published run has all nine feed files).
func (c *histCache) day(date arrow.Date32) (*histDay, error) {
	if hd := c.days[date]; hd != nil {
		return hd, nil
	}
	hd := &histDay{idx: map[feed.ID]map[string]original{}}
	if c.h != nil {
		rec, ok, err := c.h.Feed(dateOf(date), feed.Reversal)
		if err != nil {
			return nil, err
		}
		if ok {
			hd.ok, hd.rev = true, rec
			hd.recs = append(hd.recs, rec)
		}
	}
	c.days[date] = hd
	return hd, nil
}

// lookup returns the txn_id index of feed f in the stored run of date; stored is false when
// no run of that date is stored.
func (c *histCache) lookup(date arrow.Date32, f feed.ID) (idx map[string]original, stored bool, err error) {
	hd, err := c.day(date)
	if err != nil || !hd.ok {
		return nil, false, err
	}
	if idx := hd.idx[f]; idx != nil {
		return idx, true, nil
	}
	rec := hd.rev
	if f != feed.Reversal {
		var ok bool
		rec, ok, err = c.h.Feed(dateOf(date), f)
		if err != nil {
			return nil, true, err
		}
		if !ok {
			return nil, true, fmt.Errorf("stored run of %s lost its %s feed", dateOf(date).Format("2006-01-02"), f)
		}
		hd.recs = append(hd.recs, rec)
	}
	idx = map[string]original{}
	sch := feed.Get(f)
	txn := rec.Column(sch.Col("txn_id")).(*array.String)
	amt := rec.Column(sch.Col("amount")).(*array.Int64).Int64Values()
	pay := rec.Column(sch.Col("pay_method")).(*array.String)
	for r := 0; r < int(rec.NumRows()); r++ {
		idx[txn.Value(r)] = original{amt[r], pay.Value(r)}
	}
	hd.idx[f] = idx
	return idx, true, nil
}

// storedReversals returns the reversals of stored days (within the window, from date on)
// of one original, in stored-day order: the "stored days first" of REVERSAL_EXCEEDS_ORIGINAL.
func (c *histCache) storedReversals(from, today arrow.Date32, k origKey, origDate arrow.Date32) ([]int64, error) {
	var out []int64
	for dd := from; dd < today; dd++ {
		hd, err := c.day(dd)
		if err != nil {
			return nil, err
		}
		if !hd.ok {
			continue
		}
		out = append(out, hd.reversalsOf(revKey{k.feed, k.txn, origDate})...)
	}
	return out, nil
}

// reversals applies RULES.md §5.
func (d *day) reversals() error {
	f := feed.Reversal
	n := d.n(f)
	if n == 0 {
		return nil
	}
	hist := &histCache{h: d.hist, days: map[arrow.Date32]*histDay{}}
	defer hist.release()
	txn, origTxn, origFeed := d.str(f, "txn_id"), d.str(f, "orig_txn_id"), d.str(f, "orig_feed")
	origDate, kind, amount, pay := d.date32(f, "orig_date"), d.str(f, "kind"), d.i64(f, "amount"), d.str(f, "pay_method")
	approver, counter, tm := d.str(f, "approver_id"), d.str(f, "counter_id"), d.times(f, "txn_time")

	type group struct {
		orig  original
		od    arrow.Date32
		key   origKey
		today []int
	}
	groups := map[string]*group{} // original (feed, date, txn) → its reversals of today
	var order []string
	for r := 0; r < n; r++ {
		a := amount[r]
		od := origDate[r]
		of := origFeed.Value(r)
		k := origKey{of, origTxn.Value(r)}
		if kind.Value(r) == "VOID" && od != d.date {
			d.raiseAmount(f, r, CodeVoidNotSameDay, a, d.lang.f(i18n.DetailVoidOtherDay, k.txn, dateOf(od).Format("2006-01-02")))
		}
		if kind.Value(r) == "REFUND" && a > 10000 && (approver.IsNull(r) || approver.Value(r) == counter.Value(r)) {
			detail := d.lang.f(i18n.DetailRefundNoApprover, money.Format(a))
			if !approver.IsNull(r) { // an empty cell is null
				detail = d.lang.f(i18n.DetailRefundSelfApproved, money.Format(a), approver.Value(r))
			}
			d.raiseAmount(f, r, CodeRefundNotApproved, a, detail)
		}
		var orig original
		found := false
		where := d.lang.f(i18n.DetailOriginal, d.lang.feedNamed(of), quote(k.txn), dateOf(od).Format("2006-01-02"))
		ofID, _ := feed.ByName(of)
		if od == d.date {
			if rf, ok := d.revenue.lookup(k.txn); ok && rf.f == ofID {
				orig = original{d.i64(ofID, "amount")[rf.row], d.str(ofID, "pay_method").Value(rf.row)}
				found = true
			} else {
				d.raiseAmount(f, r, CodeReversalOrphan, a, d.lang.f(i18n.DetailOrphanToday, where))
			}
		} else {
			age := int(d.date - od)
			if age > d.lookback {
				d.raiseAmount(f, r, CodeReversalNoHistory, a, d.lang.f(i18n.DetailTooOld, where, age, d.lookback))
			} else {
				idx, stored, err := hist.lookup(od, ofID)
				if err != nil {
					return fmt.Errorf("look back to %s: %w", dateOf(od).Format("2006-01-02"), err)
				}
				switch o, ok := idx[k.txn]; {
				case !stored:
					d.raiseAmount(f, r, CodeReversalNoHistory, a, d.lang.f(i18n.DetailNoStoredRun, dateOf(od).Format("2006-01-02"), where))
				case !ok:
					d.raiseAmount(f, r, CodeReversalOrphan, a, d.lang.f(i18n.DetailOrphanStored, where))
				default:
					orig, found = o, true
				}
			}
		}
		if !found {
			continue
		}
		if kind.Value(r) == "VOID" && a != orig.amount {
			d.raiseAmount(f, r, CodeVoidPartial, a, d.lang.f(i18n.DetailVoidPartial, k.txn, money.Format(a), money.Format(orig.amount)))
		}
		if pay.Value(r) != orig.pay {
			d.raiseAmount(f, r, CodeReversalMethodMismatch, a, d.lang.f(i18n.DetailMethodMismatch, pay.Value(r), k.txn, orig.pay))
		}
		gk := fmt.Sprintf("%s\x00%d\x00%s", of, od, k.txn)
		g := groups[gk]
		if g == nil {
			g = &group{orig: orig, od: od, key: k}
			groups[gk] = g
			order = append(order, gk)
		}
		g.today = append(g.today, r)
	}

	for _, gk := range order {
		g := groups[gk]
		var total int64
		if g.od != d.date {
			from := g.od
			if lim := d.date - arrow.Date32(d.lookback); from < lim {
				from = lim
			}
			earlier, err := hist.storedReversals(from, d.date, g.key, g.od)
			if err != nil {
				return err
			}
			for _, a := range earlier {
				total += a
			}
		}
		rows := g.today
		sort.SliceStable(rows, func(i, j int) bool {
			if tm[rows[i]] != tm[rows[j]] {
				return tm[rows[i]] < tm[rows[j]]
			}
			return txn.Value(rows[i]) < txn.Value(rows[j])
		})
		crossed := false
		for _, r := range rows {
			total += amount[r]
			if crossed || total > g.orig.amount {
				crossed = true
				d.raiseAmount(f, r, CodeReversalExceedsOriginal, amount[r], d.lang.f(i18n.DetailReversalsReach,
					g.key.txn, money.Format(total), money.Format(g.orig.amount)))
			}
		}
	}
	return nil
}

// remote applies RULES.md §6.
func (d *day) remote() {
	f := feed.RemotePayment
	status, txn, amount := d.str(f, "clearing_status"), d.str(f, "txn_id"), d.i64(f, "amount")
	for r := 0; r < d.n(f); r++ {
		switch status.Value(r) {
		case "PENDING":
			d.raise(f, r, CodeRemotePending, d.lang.s(i18n.DetailClearingPending))
		case "REJECTED":
			if !d.fullyReversedToday(f, txn.Value(r), amount[r]) {
				d.raise(f, r, CodeRemoteRejected, d.lang.f(i18n.DetailClearingRejected,
					money.Format(d.reversedToday[origKey{f.String(), txn.Value(r)}]), money.Format(amount[r])))
			}
		}
	}
}
