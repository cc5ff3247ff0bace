package engine

import (
	"cmp"
	"slices"
	"strings"

	"settle/feed"
	"settle/internal/i18n"
	"settle/money"
)

// settleKey is a counter × category × pay method.
type settleKey struct {
	t        triple
	category string
	pay      string
}

type settleSum struct {
	count, gross, reversed int64
	first                  ref // first row that contributed, for the deposit finding
}

// settle computes RULES.md §2: settlement lines, the deposit check and DEPOSIT_SHORT/OVER.
func (d *day) settle() ([]SettlementLine, []VarianceLine) {
	sums := map[settleKey]*settleSum{}
	// A counter's rows mostly follow each other with few pay methods: the last key's sum is
	// taken without a map lookup (five strings hashed per row had been most of this rule).
	var (
		lastKey settleKey
		last    *settleSum
	)
	// The keys in the order they were first seen (the rows' order: a counter's follow each
	// other), which the lines are made in.
	type keySum struct {
		k settleKey
		s *settleSum
	}
	var made []keySum
	get := func(k settleKey, f feed.ID, r int) *settleSum {
		if last != nil && k == lastKey {
			return last
		}
		s := sums[k]
		if s == nil {
			s = &settleSum{first: ref{f, r}}
			sums[k] = s
			made = append(made, keySum{k, s})
		}
		lastKey, last = k, s
		return s
	}
	// The sums of the counter whose rows are being read, by category and pay method: a
	// counter has one city and outlet (place), and its rows mostly follow each other with
	// their pay methods mixed, so that the key had been looked up in the map at most rows.
	type curSum struct {
		cat, pay string
		s        *settleSum
	}
	var (
		curCounter string
		cur        []curSum
	)
	for _, f := range feed.All {
		if !feed.IsRevenue(f) {
			continue
		}
		cat := feed.Get(f).Category
		amount, pay, counter := d.i64(f, "amount"), d.str(f, "pay_method"), strCol(d.feeds[f], feed.ColCounter)
		for r := 0; r < d.n(f); r++ {
			if amount[r] <= 0 {
				continue
			}
			if c := counter.Value(r); cur == nil || c != curCounter {
				curCounter, cur = c, cur[:0]
			}
			p := pay.Value(r)
			var s *settleSum
			for i := range cur {
				if cur[i].pay == p && cur[i].cat == cat {
					s = cur[i].s
					break
				}
			}
			if s == nil {
				s = get(settleKey{d.counterOf(f, r), cat, p}, f, r)
				cur = append(cur, curSum{cat, p, s})
			}
			s.count++
			s.gross += amount[r]
		}
	}
	amount, pay, origFeed := d.i64(feed.Reversal, "amount"), d.str(feed.Reversal, "pay_method"), d.str(feed.Reversal, "orig_feed")
	for r := 0; r < d.n(feed.Reversal); r++ {
		s := get(settleKey{d.counterOf(feed.Reversal, r), feed.CategoryOf(origFeed.Value(r)), pay.Value(r)}, feed.Reversal, r)
		s.reversed += amount[r]
	}

	type varKey struct {
		t   triple
		pay string
	}
	type varSum struct {
		expected, deposited int64
		first               ref // the earliest row cited by a contributing settleSum
		depositRow          int
	}
	vars := map[varKey]*varSum{}
	type keyVar struct {
		k varKey
		v *varSum
	}
	var varsMade []keyVar
	lines := make([]SettlementLine, 0, len(made))
	for _, ks := range made {
		k, s := ks.k, ks.s
		// Every key has a row behind it: a revenue row of amount > 0 or a reversal (> 0).
		lines = append(lines, SettlementLine{City: k.t.city, Outlet: k.t.outlet, Counter: k.t.counter, Category: k.category,
			PayMethod: k.pay, TxnCount: s.count, Gross: s.gross, Reversed: s.reversed, Net: s.gross - s.reversed})
		vk := varKey{k.t, k.pay}
		v := vars[vk]
		if v == nil {
			v = &varSum{first: s.first, depositRow: -1}
			vars[vk] = v
			varsMade = append(varsMade, keyVar{vk, v})
		} else if d.before(s.first, v.first) {
			v.first = s.first
		}
		v.expected += s.gross - s.reversed
	}
	depAmount, depPay := d.i64(feed.Deposit, "amount"), d.str(feed.Deposit, "pay_method")
	for r := 0; r < d.n(feed.Deposit); r++ {
		vk := varKey{d.counterOf(feed.Deposit, r), depPay.Value(r)}
		v := vars[vk]
		if v == nil {
			v = &varSum{depositRow: r}
			vars[vk] = v
			varsMade = append(varsMade, keyVar{vk, v})
		}
		if v.depositRow < 0 {
			v.depositRow = r
		}
		v.deposited += depAmount[r]
	}
	var variance []VarianceLine
	for _, kv := range varsMade {
		k, v := kv.k, kv.v
		if v.expected == 0 && v.deposited == 0 {
			continue
		}
		vl := VarianceLine{City: k.t.city, Outlet: k.t.outlet, Counter: k.t.counter, PayMethod: k.pay,
			Expected: v.expected, Deposited: v.deposited, Variance: v.deposited - v.expected}
		variance = append(variance, vl)
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
		d.excs = append(d.excs, Exception{Code: code, Severity: severity(code), City: k.t.city, Outlet: k.t.outlet,
			Counter: k.t.counter, Feed: feed.Deposit.String(), Amount: vl.Variance, HasAmount: true, Key: k.pay,
			Detail: d.lang.f(i18n.DetailDeposit, k.pay,
				money.Format(vl.Expected), money.Format(vl.Deposited), money.Format(vl.Variance)),
			Source: d.source(at.f, at.row)})
	}
	lines = sortByCounter(lines, settlementCounter, settlementRest)
	variance = sortByCounter(variance, varianceCounter, varianceRest)
	return lines, variance
}

// The order of the settlement and variance lines: by counter (compareTriple), then by these.
func settlementCounter(l *SettlementLine) triple { return triple{l.City, l.Outlet, l.Counter} }
func varianceCounter(l *VarianceLine) triple     { return triple{l.City, l.Outlet, l.Counter} }

func settlementRest(a, b *SettlementLine) int {
	return cmp.Or(strings.Compare(a.Category, b.Category), strings.Compare(a.PayMethod, b.PayMethod))
}

func varianceRest(a, b *VarianceLine) int { return strings.Compare(a.PayMethod, b.PayMethod) }

// sortByCounter returns xs sorted by their counter (compareTriple), then by rest: the
// counters are ranked once and xs put in their counters' order by counting, so that only
// each counter's few elements are compared (a city-day's settlement lines had taken 40 ms to
// sort by three strings and two more).
func sortByCounter[T any](xs []T, counterOf func(*T) triple, rest func(a, b *T) int) []T {
	pos := make(map[triple]int32) // a counter's place in uniq
	var uniq []triple
	at := make([]int32, len(xs)) // xs[i]'s counter's place in uniq
	var (
		lastT triple
		lastP int32 = -1
	)
	for i := range xs {
		t := counterOf(&xs[i])
		if lastP >= 0 && t == lastT { // the elements of a counter mostly follow each other
			at[i] = lastP
			continue
		}
		p, ok := pos[t]
		if !ok {
			p = int32(len(uniq))
			pos[t] = p
			uniq = append(uniq, t)
		}
		at[i], lastT, lastP = p, t, p
	}
	order := make([]int32, len(uniq))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return compareTriple(uniq[a], uniq[b]) })
	rank := make([]int32, len(uniq))
	for r, p := range order {
		rank[p] = int32(r)
	}
	// start[r] is where the elements of the counter ranked r begin in out.
	start := make([]int, len(uniq)+1)
	for _, p := range at {
		start[rank[p]+1]++
	}
	for r := 1; r < len(start); r++ {
		start[r] += start[r-1]
	}
	out := make([]T, len(xs))
	next := slices.Clone(start[:len(uniq)])
	for i, p := range at {
		r := rank[p]
		out[next[r]] = xs[i]
		next[r]++
	}
	for r := range uniq {
		sortPart(out[start[r]:start[r+1]], rest)
	}
	return out
}

// sortPart sorts a counter's elements by rest, stably.
func sortPart[T any](part []T, rest func(a, b *T) int) {
	if len(part) <= 32 {
		for i := 1; i < len(part); i++ {
			for j := i; j > 0 && rest(&part[j-1], &part[j]) > 0; j-- {
				part[j-1], part[j] = part[j], part[j-1]
			}
		}
		return
	}
	idx := make([]int, len(part))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return rest(&part[a], &part[b]) })
	sorted := make([]T, len(part))
	for i, j := range idx {
		sorted[i] = part[j]
	}
	copy(part, sorted)
}

// summary applies RULES.md §3: the payment summary against the local, remote and card detail.
func (d *day) summary() {
	type key struct {
		t        triple
		category string
		pay      string
	}
	type side struct {
		count, amount int64
		row           int // first row, -1 when none
	}
	type pair struct {
		sum, det side
		detFeed  feed.ID // of det.row
	}
	pairs := map[key]*pair{}
	get := func(k key) *pair {
		p := pairs[k]
		if p == nil {
			p = &pair{sum: side{row: -1}, det: side{row: -1}}
			pairs[k] = p
		}
		return p
	}
	cat, pay, cnt, amt := d.str(feed.PaymentSummary, "category"), d.str(feed.PaymentSummary, "pay_method"),
		d.i64(feed.PaymentSummary, "txn_count"), d.i64(feed.PaymentSummary, "amount")
	for r := 0; r < d.n(feed.PaymentSummary); r++ {
		p := get(key{d.counterOf(feed.PaymentSummary, r), cat.Value(r), pay.Value(r)})
		p.sum.count += cnt[r]
		p.sum.amount += amt[r]
		if p.sum.row < 0 {
			p.sum.row = r
		}
	}
	// The pairs of the counter whose rows are being read, by pay method (as in settle: a
	// counter has one city and outlet, and its rows mostly follow each other).
	type curPair struct {
		pay string
		p   *pair
	}
	for _, category := range feed.SummaryCategories.Values {
		f := feed.SummaryDetail(category)
		amount, pay, counter := d.i64(f, "amount"), d.str(f, "pay_method"), strCol(d.feeds[f], feed.ColCounter)
		var (
			curCounter string
			cur        []curPair
		)
		for r := 0; r < d.n(f); r++ {
			if c := counter.Value(r); cur == nil || c != curCounter {
				curCounter, cur = c, cur[:0]
			}
			pm := pay.Value(r)
			var p *pair
			for i := range cur {
				if cur[i].pay == pm {
					p = cur[i].p
					break
				}
			}
			if p == nil {
				p = get(key{d.counterOf(f, r), category, pm})
				cur = append(cur, curPair{pm, p})
			}
			p.det.count++
			p.det.amount += amount[r]
			if p.det.row < 0 {
				p.det.row, p.detFeed = r, f
			}
		}
	}
	for k, p := range pairs {
		if p.sum.count == p.det.count && p.sum.amount == p.det.amount {
			continue
		}
		detail := d.lang.f(i18n.DetailSummary, k.category, k.pay,
			p.sum.count, money.Format(p.sum.amount), p.det.count, money.Format(p.det.amount))
		e := Exception{Code: CodeSummaryMismatch, Severity: severity(CodeSummaryMismatch), City: k.t.city, Outlet: k.t.outlet, Counter: k.t.counter,
			Feed: feed.PaymentSummary.String(), Amount: p.sum.amount - p.det.amount, HasAmount: true,
			Key: k.category + "/" + k.pay, Detail: detail}
		if p.sum.row >= 0 {
			e.Source = d.source(feed.PaymentSummary, p.sum.row)
		} else {
			e.Source = d.source(p.detFeed, p.det.row)
		}
		d.excs = append(d.excs, e)
	}
}
