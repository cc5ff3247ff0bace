// Package diff compares two published runs of the run store (OUTPUTS.md "settle diff") in
// reconciliation terms rather than as rows: per counter, the settlement and variance lines
// whose figures changed, appeared or disappeared, and the exceptions added, resolved or
// changed; totals of each kind; and, from the two manifests, what caused it — the inputs,
// the tool version, both or neither.
//
// Load reads a run directory, Compare compares two runs, and WriteTable, WriteCSV,
// WriteJSON and WriteXLSX write the result.
package diff

import (
	"cmp"
	"slices"

	"settle/engine"
)

// Change is how a line or an exception differs between run A and run B.
type Change string

// Values of Change. Lines are Changed, Added or Removed; exceptions Added, Resolved or
// Changed.
const (
	Changed  Change = "changed"  // in both runs, with other figures (or severity, amount, detail)
	Added    Change = "added"    // only in B
	Removed  Change = "removed"  // a line only in A
	Resolved Change = "resolved" // an exception only in A
)

// Diff is what changed from run A to run B.
type Diff struct {
	A, B   RunInfo
	Cause  Cause
	Totals Totals
	// Counters holds the counters with a change, sorted by city, outlet and counter; findings
	// that belong to no counter (a city-wide FEED_MISSING) come under empty ids.
	Counters []Counter
}

// Equal reports whether the two runs agree: no line or exception changed. A change of
// inputs or version that changed no figure is not a difference.
func (d *Diff) Equal() bool { return len(d.Counters) == 0 }

// RunInfo identifies a run by its manifest.
type RunInfo struct {
	Dir         string // the run directory as given to Load
	RunID       string
	BizDate     string
	ToolVersion string
	Source      string
	Status      string
	InputDigest string // empty in manifests written before settle recorded it
}

// Name is the run's DATE@RUN_ID.
func (r RunInfo) Name() string { return r.BizDate + "@" + r.RunID }

// Counter is the changes of one counter, each list in a fixed order.
type Counter struct {
	City, Outlet, Counter string
	Settlement            []SettlementChange // by category, pay method
	Variance              []VarianceChange   // by pay method
	Added                 []engine.Exception // exceptions only in B, by identity
	Resolved              []engine.Exception // exceptions only in A, by identity
	Changed               []ExceptionChange  // same identity, other severity, amount or detail
}

// SettlementChange is a settlement line (counter × category × pay method) whose figures
// differ. Old is the zero line when Change is Added, New when it is Removed: a missing line
// counts as zeros, so deltas are always New − Old.
type SettlementChange struct {
	Change              Change
	Category, PayMethod string
	Old, New            engine.SettlementLine
}

// VarianceChange is a variance line (counter × pay method) whose figures differ; Old and
// New as in SettlementChange.
type VarianceChange struct {
	Change    Change
	PayMethod string
	Old, New  engine.VarianceLine
}

// ExceptionChange is an exception found in both runs (same identity: code, counter_id,
// feed, txn_id, key) with another severity, amount, detail, city or outlet.
type ExceptionChange struct {
	Old, New engine.Exception
	Fields   []string // what differs, in this order: severity, amount, detail, city, outlet_id
}

// Totals counts the changes of each kind over all counters.
type Totals struct {
	Counters   int // counters with any change
	Settlement LineTotals
	Variance   LineTotals
	Exceptions ExceptionTotals
	// NetDelta is the change of all settlement lines' net; VarianceDelta that of all
	// variance lines' variance (fen).
	NetDelta, VarianceDelta int64
}

// LineTotals counts changed, added and removed lines.
type LineTotals struct{ Changed, Added, Removed int }

// ExceptionTotals counts exceptions added, resolved and changed.
type ExceptionTotals struct{ Added, Resolved, Changed int }

// Figure is one figure of a line in both runs.
type Figure struct {
	Name     string // txn_count, gross, reversed, net; expected, deposited, variance
	Money    bool   // fen (else a count)
	Old, New int64
}

// Delta is New − Old.
func (f Figure) Delta() int64 { return f.New - f.Old }

// Figures returns the line's four figures: txn_count, gross, reversed, net.
func (c SettlementChange) Figures() []Figure {
	return []Figure{
		{"txn_count", false, c.Old.TxnCount, c.New.TxnCount},
		{"gross", true, c.Old.Gross, c.New.Gross},
		{"reversed", true, c.Old.Reversed, c.New.Reversed},
		{"net", true, c.Old.Net, c.New.Net},
	}
}

// Figures returns the line's three figures: expected, deposited, variance.
func (c VarianceChange) Figures() []Figure {
	return []Figure{
		{"expected", true, c.Old.Expected, c.New.Expected},
		{"deposited", true, c.Old.Deposited, c.New.Deposited},
		{"variance", true, c.Old.Variance, c.New.Variance},
	}
}

// differing returns the figures whose values differ.
func differing(figs []Figure) []Figure {
	out := figs[:0:0]
	for _, f := range figs {
		if f.Old != f.New {
			out = append(out, f)
		}
	}
	return out
}

// Compare compares run a (the older, as a rule) with run b.
func Compare(a, b *Run) *Diff {
	d := &Diff{A: a.Info, B: b.Info, Cause: compareCause(a.Manifest, b.Manifest)}
	counters := map[counterKey]*Counter{}
	at := func(city, outlet, counter string) *Counter {
		k := counterKey{city, outlet, counter}
		c := counters[k]
		if c == nil {
			c = &Counter{City: city, Outlet: outlet, Counter: counter}
			counters[k] = c
		}
		return c
	}
	// A change's New carries the line's key whatever the change (compareSettlement and
	// compareVariance fill it for a removed line too).
	compareSettlement(a.Settlement, b.Settlement, func(sc SettlementChange) {
		c := at(sc.New.City, sc.New.Outlet, sc.New.Counter)
		c.Settlement = append(c.Settlement, sc)
	})
	compareVariance(a.Variance, b.Variance, func(vc VarianceChange) {
		c := at(vc.New.City, vc.New.Outlet, vc.New.Counter)
		c.Variance = append(c.Variance, vc)
	})
	compareExceptions(a.Exceptions, b.Exceptions, exceptionSink{
		added:    func(e engine.Exception) { c := at(e.City, e.Outlet, e.Counter); c.Added = append(c.Added, e) },
		resolved: func(e engine.Exception) { c := at(e.City, e.Outlet, e.Counter); c.Resolved = append(c.Resolved, e) },
		changed: func(ec ExceptionChange) {
			c := at(ec.New.City, ec.New.Outlet, ec.New.Counter)
			c.Changed = append(c.Changed, ec)
		},
		ignoreDetails: !d.Cause.DetailsCompared(),
	})

	d.Counters = make([]Counter, 0, len(counters))
	for _, c := range counters {
		d.Counters = append(d.Counters, *c)
	}
	slices.SortFunc(d.Counters, func(x, y Counter) int {
		return cmp.Or(cmp.Compare(x.City, y.City), cmp.Compare(x.Outlet, y.Outlet), cmp.Compare(x.Counter, y.Counter))
	})
	for i := range d.Counters {
		c := &d.Counters[i]
		// The inputs come sorted, so these only settle what grouping may have disturbed.
		slices.SortStableFunc(c.Settlement, func(x, y SettlementChange) int {
			return cmp.Or(cmp.Compare(x.Category, y.Category), cmp.Compare(x.PayMethod, y.PayMethod))
		})
		slices.SortStableFunc(c.Variance, func(x, y VarianceChange) int { return cmp.Compare(x.PayMethod, y.PayMethod) })
		slices.SortStableFunc(c.Added, compareException)
		slices.SortStableFunc(c.Resolved, compareException)
		slices.SortStableFunc(c.Changed, func(x, y ExceptionChange) int {
			return cmp.Or(compareException(x.New, y.New), compareException(x.Old, y.Old))
		})
		d.Totals.add(c)
	}
	d.Totals.Counters = len(d.Counters)
	return d
}

type counterKey struct{ city, outlet, counter string }

func (t *Totals) add(c *Counter) {
	for _, s := range c.Settlement {
		t.Settlement.count(s.Change)
		t.NetDelta += s.New.Net - s.Old.Net
	}
	for _, v := range c.Variance {
		t.Variance.count(v.Change)
		t.VarianceDelta += v.New.Variance - v.Old.Variance
	}
	t.Exceptions.Added += len(c.Added)
	t.Exceptions.Resolved += len(c.Resolved)
	t.Exceptions.Changed += len(c.Changed)
}

func (t *LineTotals) count(c Change) {
	switch c {
	case Changed:
		t.Changed++
	case Added:
		t.Added++
	case Removed:
		t.Removed++
	}
}

// Lines are matched by key in sorted order; should a run hold one key twice (the engine
// never writes that), its lines pair up in order of their figures.

func settlementKey(x, y engine.SettlementLine) int {
	return cmp.Or(cmp.Compare(x.City, y.City), cmp.Compare(x.Outlet, y.Outlet), cmp.Compare(x.Counter, y.Counter),
		cmp.Compare(x.Category, y.Category), cmp.Compare(x.PayMethod, y.PayMethod))
}

func settlementOrder(x, y engine.SettlementLine) int {
	return cmp.Or(settlementKey(x, y), cmp.Compare(x.TxnCount, y.TxnCount), cmp.Compare(x.Gross, y.Gross),
		cmp.Compare(x.Reversed, y.Reversed), cmp.Compare(x.Net, y.Net))
}

func varianceKey(x, y engine.VarianceLine) int {
	return cmp.Or(cmp.Compare(x.City, y.City), cmp.Compare(x.Outlet, y.Outlet), cmp.Compare(x.Counter, y.Counter),
		cmp.Compare(x.PayMethod, y.PayMethod))
}

func varianceOrder(x, y engine.VarianceLine) int {
	return cmp.Or(varianceKey(x, y), cmp.Compare(x.Expected, y.Expected), cmp.Compare(x.Deposited, y.Deposited),
		cmp.Compare(x.Variance, y.Variance))
}

func compareSettlement(a, b []engine.SettlementLine, emit func(SettlementChange)) {
	mergeJoin(a, b, settlementOrder, settlementKey, func(o, n *engine.SettlementLine) {
		var sc SettlementChange
		switch {
		case o == nil:
			sc = SettlementChange{Change: Added, New: *n}
			sc.Old = engine.SettlementLine{City: n.City, Outlet: n.Outlet, Counter: n.Counter, Category: n.Category, PayMethod: n.PayMethod}
		case n == nil:
			sc = SettlementChange{Change: Removed, Old: *o}
			sc.New = engine.SettlementLine{City: o.City, Outlet: o.Outlet, Counter: o.Counter, Category: o.Category, PayMethod: o.PayMethod}
		case *o == *n:
			return
		default:
			sc = SettlementChange{Change: Changed, Old: *o, New: *n}
		}
		sc.Category, sc.PayMethod = sc.New.Category, sc.New.PayMethod
		emit(sc)
	})
}

func compareVariance(a, b []engine.VarianceLine, emit func(VarianceChange)) {
	mergeJoin(a, b, varianceOrder, varianceKey, func(o, n *engine.VarianceLine) {
		var vc VarianceChange
		switch {
		case o == nil:
			vc = VarianceChange{Change: Added, New: *n}
			vc.Old = engine.VarianceLine{City: n.City, Outlet: n.Outlet, Counter: n.Counter, PayMethod: n.PayMethod}
		case n == nil:
			vc = VarianceChange{Change: Removed, Old: *o}
			vc.New = engine.VarianceLine{City: o.City, Outlet: o.Outlet, Counter: o.Counter, PayMethod: o.PayMethod}
		case *o == *n:
			return
		default:
			vc = VarianceChange{Change: Changed, Old: *o, New: *n}
		}
		vc.PayMethod = vc.New.PayMethod
		emit(vc)
	})
}

// mergeJoin sorts copies of a and b by order and walks them together, calling pair for
// every pair of lines with the same key and for every line without a partner (the other
// side nil).
func mergeJoin[T any](a, b []T, order, key func(x, y T) int, pair func(o, n *T)) {
	a, b = sortedCopy(a, order), sortedCopy(b, order)
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var c int
		switch {
		case i == len(a):
			c = 1
		case j == len(b):
			c = -1
		default:
			c = key(a[i], b[j])
		}
		switch {
		case c < 0:
			pair(&a[i], nil)
			i++
		case c > 0:
			pair(nil, &b[j])
			j++
		default:
			pair(&a[i], &b[j])
			i++
			j++
		}
	}
}

func sortedCopy[T any](s []T, order func(x, y T) int) []T {
	if slices.IsSortedFunc(s, order) {
		return s
	}
	s = slices.Clone(s)
	slices.SortFunc(s, order)
	return s
}
