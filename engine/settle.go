package engine

import (
	"settle/feed"
	"settle/internal/i18n"
	"settle/money"
)

// settleKey is a counter × category × pay method: the counter by its number (day.cid), the
// category and pay method by theirs in settle's names.
type settleKey struct {
	cid, category, pay int32
}

type settleSum struct {
	k                      settleKey
	count, gross, reversed int64
	first                  ref   // first row that contributed, for the deposit finding
	next                   int32 // the counter's key made before, +1 (0: none)
}

// settle computes RULES.md §2: settlement lines, the deposit check and DEPOSIT_SHORT/OVER.
func (d *day) settle() ([]SettlementLine, []VarianceLine) {
	var cats, pays names
	// The sums in the order their keys were first seen (the rows' order: a counter's follow
	// each other), which the lines are made in; a counter's few keys are found by a list
	// through its sums (heads: its last key's, +1), without hashing.
	var made []settleSum
	heads := make([]int32, len(d.counters))
	get := func(k settleKey, f feed.ID, r int) int {
		for i := heads[k.cid] - 1; i >= 0; i = made[i].next - 1 {
			if made[i].k == k {
				return int(i)
			}
		}
		made = append(made, settleSum{k: k, first: ref{f, r}, next: heads[k.cid]})
		heads[k.cid] = int32(len(made))
		return len(made) - 1
	}
	for _, f := range feed.All {
		if !feed.IsRevenue(f) {
			continue
		}
		cat := cats.id(feed.Get(f).Category)
		amount, pay, cid := d.i64(f, "amount"), d.str(f, "pay_method"), d.cid[f]
		cur := payMemo{counter: -1} // the counter's sums, by pay method
		for r := 0; r < d.n(f); r++ {
			if amount[r] <= 0 {
				continue
			}
			p := pay.Value(r)
			s, ok := cur.find(cid[r], p)
			if !ok {
				s = get(settleKey{cid[r], cat, pays.id(p)}, f, r)
				cur.add(p, s)
			}
			made[s].count++
			made[s].gross += amount[r]
		}
	}
	amount, pay, origFeed, rcid := d.i64(feed.Reversal, "amount"), d.str(feed.Reversal, "pay_method"), d.str(feed.Reversal, "orig_feed"), d.cid[feed.Reversal]
	for r := 0; r < d.n(feed.Reversal); r++ {
		s := get(settleKey{rcid[r], cats.id(feed.CategoryOf(origFeed.Value(r))), pays.id(pay.Value(r))}, feed.Reversal, r)
		made[s].reversed += amount[r]
	}

	type varKey struct {
		cid, pay int32
	}
	type varSum struct {
		k                   varKey
		expected, deposited int64
		first               ref // the earliest row cited by a contributing settleSum
		depositRow          int
		next                int32 // as settleSum's
	}
	// The counter × pay methods in the order first seen, found as the sums are.
	var varsMade []varSum
	vheads := make([]int32, len(d.counters))
	getVar := func(k varKey) (int, bool) {
		for i := vheads[k.cid] - 1; i >= 0; i = varsMade[i].next - 1 {
			if varsMade[i].k == k {
				return int(i), true
			}
		}
		varsMade = append(varsMade, varSum{k: k, depositRow: -1, next: vheads[k.cid]})
		vheads[k.cid] = int32(len(varsMade))
		return len(varsMade) - 1, false
	}
	lines := make([]SettlementLine, 0, len(made))
	lineIDs := make([]int32, 0, len(made))
	for i := range made {
		s := &made[i]
		k := s.k
		t := d.counters[k.cid]
		// Every key has a row behind it: a revenue row of amount > 0 or a reversal (> 0).
		lines = append(lines, SettlementLine{City: t.city, Outlet: t.outlet, Counter: t.counter, Category: cats.list[k.category],
			PayMethod: pays.list[k.pay], TxnCount: s.count, Gross: s.gross, Reversed: s.reversed, Net: s.gross - s.reversed})
		lineIDs = append(lineIDs, k.cid)
		j, ok := getVar(varKey{k.cid, k.pay})
		v := &varsMade[j]
		if !ok {
			v.first = s.first
		} else if d.before(s.first, v.first) {
			v.first = s.first
		}
		v.expected += s.gross - s.reversed
	}
	depAmount, depPay, dcid := d.i64(feed.Deposit, "amount"), d.str(feed.Deposit, "pay_method"), d.cid[feed.Deposit]
	for r := 0; r < d.n(feed.Deposit); r++ {
		j, _ := getVar(varKey{dcid[r], pays.id(depPay.Value(r))})
		v := &varsMade[j]
		if v.depositRow < 0 {
			v.depositRow = r
		}
		v.deposited += depAmount[r]
	}
	var variance []VarianceLine
	var varIDs []int32
	for i := range varsMade {
		v := &varsMade[i]
		k := v.k
		if v.expected == 0 && v.deposited == 0 {
			continue
		}
		t, payName := d.counters[k.cid], pays.list[k.pay]
		vl := VarianceLine{City: t.city, Outlet: t.outlet, Counter: t.counter, PayMethod: payName,
			Expected: v.expected, Deposited: v.deposited, Variance: v.deposited - v.expected}
		variance = append(variance, vl)
		varIDs = append(varIDs, k.cid)
		if vl.Variance == 0 {
			continue
		}
		code := CodeDepositShort
		if vl.Variance > 0 {
			code = CodeDepositOver
		}
		at := v.first
		if v.depositRow >= 0 {
			at = ref{feed.Deposit, v.depositRow}
		}
		d.excs = append(d.excs, Exception{Code: code, Severity: severity(code), City: t.city, Outlet: t.outlet,
			Counter: t.counter, Feed: feed.Deposit.String(), Amount: vl.Variance, HasAmount: true, Key: payName,
			Detail: d.lang.f(i18n.DetailDeposit, payName,
				money.Format(vl.Expected), money.Format(vl.Deposited), money.Format(vl.Variance)),
			Source: d.source(at.f, at.row)})
	}
	// Within a counter, the lines go by category, then pay method; the variance by pay method.
	catRank, payRank := cats.ranks(), pays.ranks()
	keys := make([]int32, len(made))
	for i := range made {
		keys[i] = catRank[made[i].k.category]*int32(len(payRank)) + payRank[made[i].k.pay]
	}
	lines = sortByID(lines, lineIDs, keys, len(d.counters))
	keys = keys[:0]
	for i := range varsMade {
		if v := &varsMade[i]; v.expected != 0 || v.deposited != 0 {
			keys = append(keys, payRank[v.k.pay])
		}
	}
	variance = sortByID(variance, varIDs, keys, len(d.counters))
	return lines, variance
}

// summary applies RULES.md §3: the payment summary against the local, remote and card detail.
func (d *day) summary() {
	// A counter × category × pay method: the counter by its number (day.cid), the category
	// and pay method by theirs in cats and pays.
	type key struct {
		cid, category, pay int32
	}
	var cats, pays names
	type side struct {
		count, amount int64
		row           int // first row, -1 when none
	}
	type pair struct {
		k        key
		sum, det side
		detFeed  feed.ID // of det.row
		next     int32   // the counter's pair made before, +1 (0: none)
	}
	// The pairs in the order first seen; a counter's few are found by a list through them
	// (heads: its last pair's, +1), as settle's sums are.
	var pairs []pair
	heads := make([]int32, len(d.counters))
	// get returns the pair of k by its place in pairs (a pointer would be left behind when
	// pairs grows).
	get := func(k key) int {
		for i := heads[k.cid] - 1; i >= 0; i = pairs[i].next - 1 {
			if pairs[i].k == k {
				return int(i)
			}
		}
		pairs = append(pairs, pair{k: k, sum: side{row: -1}, det: side{row: -1}, next: heads[k.cid]})
		heads[k.cid] = int32(len(pairs))
		return len(pairs) - 1
	}
	cat, pay, cnt, amt := d.str(feed.PaymentSummary, "category"), d.str(feed.PaymentSummary, "pay_method"),
		d.i64(feed.PaymentSummary, "txn_count"), d.i64(feed.PaymentSummary, "amount")
	scid := d.cid[feed.PaymentSummary]
	for r := 0; r < d.n(feed.PaymentSummary); r++ {
		p := &pairs[get(key{scid[r], cats.id(cat.Value(r)), pays.id(pay.Value(r))})]
		p.sum.count += cnt[r]
		p.sum.amount += amt[r]
		if p.sum.row < 0 {
			p.sum.row = r
		}
	}
	for _, category := range feed.SummaryCategories.Values {
		f := feed.SummaryDetail(category)
		catID := cats.id(category)
		amount, pay, cid := d.i64(f, "amount"), d.str(f, "pay_method"), d.cid[f]
		cur := payMemo{counter: -1} // the counter's pairs, by pay method
		for r := 0; r < d.n(f); r++ {
			pm := pay.Value(r)
			at, ok := cur.find(cid[r], pm)
			if !ok {
				at = get(key{cid[r], catID, pays.id(pm)})
				cur.add(pm, at)
			}
			p := &pairs[at]
			p.det.count++
			p.det.amount += amount[r]
			if p.det.row < 0 {
				p.det.row, p.detFeed = r, f
			}
		}
	}
	for i := range pairs {
		p := &pairs[i]
		k := p.k
		if p.sum.count == p.det.count && p.sum.amount == p.det.amount {
			continue
		}
		t, category, pm := d.counters[k.cid], cats.list[k.category], pays.list[k.pay]
		detail := d.lang.f(i18n.DetailSummary, category, pm,
			p.sum.count, money.Format(p.sum.amount), p.det.count, money.Format(p.det.amount))
		e := Exception{Code: CodeSummaryMismatch, Severity: severity(CodeSummaryMismatch), City: t.city, Outlet: t.outlet, Counter: t.counter,
			Feed: feed.PaymentSummary.String(), Amount: p.sum.amount - p.det.amount, HasAmount: true,
			Key: category + "/" + pm, Detail: detail}
		if p.sum.row >= 0 {
			e.Source = d.source(feed.PaymentSummary, p.sum.row)
		} else {
			e.Source = d.source(p.detFeed, p.det.row)
		}
		d.excs = append(d.excs, e)
	}
}

// payMemo remembers, for the counter whose rows are being read, the index each pay method's
// line was given: a counter's rows mostly follow each other with their few pay methods mixed,
// so a short list searched in turn finds the line without a look-up by key (settle, summary).
type payMemo struct {
	counter int32
	pays    []string
	at      []int
}

// find returns the index pay was given among counter's rows, or false (also when counter is
// not the one remembered: the memo then starts over for it).
func (m *payMemo) find(counter int32, pay string) (int, bool) {
	if counter != m.counter {
		m.counter, m.pays, m.at = counter, m.pays[:0], m.at[:0]
		return 0, false
	}
	for i, p := range m.pays {
		if p == pay {
			return m.at[i], true
		}
	}
	return 0, false
}

// add remembers that pay was given index at (after find said false).
func (m *payMemo) add(pay string, at int) {
	m.pays = append(m.pays, pay)
	m.at = append(m.at, at)
}
