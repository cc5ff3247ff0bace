package engine

import (
	"cmp"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"

	"settle/feed"
	"settle/internal/i18n"
	"settle/money"
)

// cards applies RULES.md §7 to business card sales.
func (d *day) cards() {
	f := feed.CardSale
	n := d.n(f)
	from, to := d.str(f, "serial_from"), d.str(f, "serial_to")
	qty, face, amount := d.i64(f, "quantity"), d.i64(f, "face_value"), d.i64(f, "amount")
	txn := d.str(f, "txn_id")
	type span struct {
		lo, hi uint64
		row    int
	}
	spans := make([]span, 0, n)
	for r := 0; r < n; r++ {
		// Serials are validated digit strings of up to 18 digits: they parse.
		lo, _ := digitsValue(from.Value(r))
		hi, _ := digitsValue(to.Value(r))
		if hi < lo {
			d.raise(f, r, CodeCardQtyMismatch, d.lang.f(i18n.DetailSerialBelow, to.Value(r), from.Value(r)))
		} else {
			if width := hi - lo + 1; uint64(qty[r]) != width {
				d.raise(f, r, CodeCardQtyMismatch, d.lang.f(i18n.DetailQtySerials, qty[r], from.Value(r), to.Value(r), width))
			}
			spans = append(spans, span{lo, hi, r})
		}
		hi64, lo64 := bits.Mul64(uint64(face[r]), uint64(qty[r]))
		if hi64 != 0 || lo64 != uint64(amount[r]) {
			want := d.lang.s(i18n.DetailBeyondHolding)
			if hi64 == 0 && lo64 <= 1<<62 {
				want = money.Format(int64(lo64))
			}
			d.raise(f, r, CodeCardAmountMismatch, d.lang.f(i18n.DetailCardAmount,
				money.Format(amount[r]), money.Format(face[r]), qty[r], want))
		}
	}

	// Overlaps anywhere in the city: sweep the ranges by their start.
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].lo != spans[j].lo {
			return spans[i].lo < spans[j].lo
		}
		return spans[i].row < spans[j].row
	})
	others := map[int][]int{}
	var active []span
	for _, s := range spans {
		kept := active[:0]
		for _, a := range active {
			if a.hi >= s.lo {
				kept = append(kept, a)
			}
		}
		active = kept
		for _, a := range active {
			others[a.row] = append(others[a.row], s.row)
			others[s.row] = append(others[s.row], a.row)
		}
		active = append(active, s)
	}
	rows := make([]int, 0, len(others))
	for r := range others {
		rows = append(rows, r)
	}
	sort.Ints(rows)
	for _, r := range rows {
		o := others[r]
		sort.Ints(o)
		names := make([]string, 0, len(o))
		for i, x := range o {
			if i == 20 {
				names = append(names, d.lang.f(i18n.DetailAndMore, len(o)-20))
				break
			}
			names = append(names, txn.Value(x))
		}
		d.raise(f, r, CodeCardSerialOverlap, d.lang.f(i18n.DetailSerialOverlap, from.Value(r), to.Value(r), d.lang.list(names)))
	}
}

// invoices applies RULES.md §8.
func (d *day) invoices() {
	f := feed.Invoice
	code, no, txn := d.str(f, "invoice_code"), d.str(f, "invoice_no"), d.str(f, "txn_id")
	status, amount := d.str(f, "status"), d.i64(f, "amount")
	cid := d.cid[f]
	// The first unflagged row of each (invoice_code, invoice_no) pair, +1 (0: none yet),
	// kept under the pair's first row (firstOfPair).
	pairOf := firstOfPair(code, no, d.n(f))
	kept := make([]int32, d.n(f))
	// The issued invoices of each revenue row, by its place (a txn_id names one row at most:
	// d.revenue), and of txn_ids no revenue row has: one map the less to look up per row.
	var issued [feed.Count][]int32
	var revAmount [feed.Count][]int64
	for _, rf := range feed.All {
		if feed.IsRevenue(rf) {
			issued[rf] = make([]int32, d.n(rf))
			revAmount[rf] = d.i64(rf, "amount")
		}
	}
	issuedOrphan := map[string]int{}
	// The revenue rows a valid VOID of today names (d.voidedToday), by place.
	var voided [feed.Count][]bool
	for k := range d.voidedToday {
		if rf, ok := d.revenue.lookup(k.txn); ok && rf.f.String() == k.feed {
			if voided[rf.f] == nil {
				voided[rf.f] = make([]bool, d.n(rf.f))
			}
			voided[rf.f][rf.row] = true
		}
	}
	// A counter × invoice code, the counter by its number (d.cid).
	type gapKey struct {
		cid  int32
		code string
	}
	type num struct {
		n     uint64
		width int
		row   int
	}
	nums := map[gapKey]*[]num{}
	var (
		lastGK gapKey
		last   *[]num
	)
	revenue := newCounterTxns(d)
	for r := 0; r < d.n(f); r++ {
		if c := cid[r]; c != revenue.cid {
			e := r + 1
			for e < len(cid) && cid[e] == c {
				e++
			}
			revenue.counter(c, e-r)
		}
		pc, pn := code.Value(r), no.Value(r)
		k := &kept[pairOf[r]]
		first, dupPair := int(*k)-1, *k > 0
		isIssued := status.Value(r) == "ISSUED"
		id := txn.Value(r)
		rf, found := revenue.lookup(id)
		var dupTxn bool
		if isIssued {
			if found {
				dupTxn = issued[rf.f][rf.row] > 0
			} else {
				dupTxn = issuedOrphan[id] > 0
			}
		}
		if !dupPair && !dupTxn {
			// A flagged row takes no part in any later check, this one included.
			*k = int32(r + 1)
			if isIssued {
				if found {
					issued[rf.f][rf.row]++
				} else {
					issuedOrphan[id]++
				}
			}
		}
		if dupPair {
			d.raise(f, r, CodeInvoiceDuplicate, d.lang.f(i18n.DetailInvoiceOn, pc, pn, d.source(f, first)))
			continue
		}
		if dupTxn {
			d.raise(f, r, CodeInvoiceDuplicate, d.lang.f(i18n.DetailInvoiceSecond, id))
			continue
		}
		if v, ok := digitsValue(pn); ok {
			// a counter's invoices mostly follow each other: the last key is taken without a look-up
			if last == nil || cid[r] != lastGK.cid || pc != lastGK.code {
				gk := gapKey{cid[r], pc}
				l, ok := nums[gk]
				if !ok {
					l = &[]num{}
					nums[gk] = l
				}
				lastGK, last = gk, l
			}
			*last = append(*last, num{v, len(pn), r})
		}
		if !found {
			d.raise(f, r, CodeInvoiceOrphan, d.lang.f(i18n.DetailInvoiceOrphan, quote(id)))
			continue
		}
		if !isIssued {
			continue
		}
		if orig := revAmount[rf.f][rf.row]; amount[r] != orig {
			d.raise(f, r, CodeInvoiceAmountMismatch, d.lang.f(i18n.DetailInvoiceAmount, money.Format(amount[r]), d.lang.feed(rf.f), txn.Value(r), money.Format(orig)))
		}
		if voided[rf.f] != nil && voided[rf.f][rf.row] {
			d.raise(f, r, CodeInvoiceNotVoided, d.lang.f(i18n.DetailInvoiceNotVoided, d.lang.feed(rf.f), txn.Value(r), pc, pn))
		}
	}
	keys := make([]gapKey, 0, len(nums))
	for k := range nums {
		keys = append(keys, k)
	}
	// By counter (the numbers follow compareTriple's order), then code.
	slices.SortFunc(keys, func(a, b gapKey) int { return cmp.Or(cmp.Compare(a.cid, b.cid), strings.Compare(a.code, b.code)) })
	for _, k := range keys {
		t := d.counters[k.cid]
		ns := *nums[k]
		// A counter's numbers mostly come in order: strictly increasing, they are in the one
		// order any sort gives them.
		increasing := true
		for i := 1; i < len(ns) && increasing; i++ {
			increasing = ns[i-1].n < ns[i].n
		}
		if !increasing {
			sort.Slice(ns, func(i, j int) bool { return ns[i].n < ns[j].n })
		}
		for i := 1; i < len(ns); i++ {
			prev, cur := ns[i-1], ns[i]
			if cur.n <= prev.n+1 {
				continue
			}
			lo, hi := prev.n+1, cur.n-1
			rng := pad(lo, cur.width)
			if hi > lo {
				rng += "-" + pad(hi, cur.width)
			}
			d.excs = append(d.excs, Exception{Code: CodeInvoiceGap, Severity: severity(CodeInvoiceGap), City: t.city, Outlet: t.outlet,
				Counter: t.counter, Feed: f.String(), Key: k.code + "/" + rng,
				Detail: d.lang.f(i18n.DetailInvoiceGap, k.code, hi-lo+1, rng),
				Source: d.source(f, cur.row)})
		}
	}
}

// digitsValue reads a string of 1-18 digits (a card serial, an all-digit invoice number).
func digitsValue(s string) (uint64, bool) {
	v, err := ParseDigits(s)
	return uint64(v), err == nil
}

func pad(n uint64, width int) string {
	s := strconv.FormatUint(n, 10)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
