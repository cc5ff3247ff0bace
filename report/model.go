package report

import (
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/array"

	"settle/engine"
	"settle/feed"
)

// key names one counter: rows, lines and findings are grouped by all three ids as they carry them.
type key struct{ city, outlet, counter string }

func keyOf(c engine.CounterInfo) key { return key{c.City, c.Outlet, c.Counter} }

// runIndex is what every report of a run draws from, built once per run: the Result's lines,
// findings and feed rows indexed by counter, and the categories and pay methods the tables show.
type runIndex struct {
	res *engine.Result
	// cats and methods are the rows and columns of the revenue and deposit tables: every
	// category of feed.Categories and every pay method of feed.PayMethods, in their order,
	// then any other the Result names (sorted), so that nothing is left out.
	cats, methods []string
	settlement    map[key][]int // indexes into res.Settlement
	variance      map[key][]int
	exceptions    map[key][]int
	rows          map[key]*[feed.Count][]int // row numbers of each feed's record
	// completeness are the FEED_MISSING and FEED_TOTAL_MISMATCH findings, which say why
	// counters are incomplete (labels.whyLines).
	completeness []engine.Exception
	// orphans are the findings that belong to no counter of res.Counters (a row with no
	// valid counter, a city-level finding): the roll-ups count them on a line of their own.
	orphans []int
	// views, when set (memoViews), keep each counter's view once made: a run's reports ask
	// for it three times (its key, its outlet's roll-up, the city's), and five before.
	views map[key]*viewMemo
}

// viewMemo is one counter's view, made once.
type viewMemo struct {
	once sync.Once
	v    *counterView
}

// memoViews makes counter keep the views of counters, which must be told apart by their
// keys (Render's counters are: no two share a report path), for the readers of a run's
// reports: a view is then shared and must not be changed.
func (ix *runIndex) memoViews(counters []engine.CounterInfo) {
	ix.views = make(map[key]*viewMemo, len(counters))
	for _, c := range counters {
		ix.views[keyOf(c)] = new(viewMemo)
	}
}

func newRunIndex(res *engine.Result) *runIndex {
	ix := &runIndex{
		res:        res,
		settlement: map[key][]int{},
		variance:   map[key][]int{},
		exceptions: map[key][]int{},
		rows:       map[key]*[feed.Count][]int{},
	}
	for _, c := range feed.Categories {
		ix.cats = append(ix.cats, c.Code)
	}
	ix.methods = append(ix.methods, feed.PayMethods.Values...)
	var extraCats, extraMethods []string
	for i, s := range res.Settlement {
		k := key{s.City, s.Outlet, s.Counter}
		ix.settlement[k] = append(ix.settlement[k], i)
		if !slices.Contains(ix.cats, s.Category) && !slices.Contains(extraCats, s.Category) {
			extraCats = append(extraCats, s.Category)
		}
		if !slices.Contains(ix.methods, s.PayMethod) && !slices.Contains(extraMethods, s.PayMethod) {
			extraMethods = append(extraMethods, s.PayMethod)
		}
	}
	for i, v := range res.Variance {
		k := key{v.City, v.Outlet, v.Counter}
		ix.variance[k] = append(ix.variance[k], i)
		if !slices.Contains(ix.methods, v.PayMethod) && !slices.Contains(extraMethods, v.PayMethod) {
			extraMethods = append(extraMethods, v.PayMethod)
		}
	}
	slices.Sort(extraCats)
	slices.Sort(extraMethods)
	ix.cats = append(ix.cats, extraCats...)
	ix.methods = append(ix.methods, extraMethods...)
	// A finding about a row set aside carries the row's city and outlet as read, which may
	// not be its counter's (RULES.md §1): it is shown in the counter's report all the same,
	// as the web page shows it.
	home := make(map[string]key, len(res.Counters))
	for _, c := range res.Counters {
		home[c.Counter] = keyOf(c)
	}
	isCounter := make(map[key]bool, len(res.Counters))
	for _, c := range res.Counters {
		isCounter[keyOf(c)] = true
	}
	for i, e := range res.Exceptions {
		k := key{e.City, e.Outlet, e.Counter}
		if h, ok := home[e.Counter]; ok && e.Counter != "" {
			k = h
		}
		// The completeness findings first: a city-wide one (no counter) is an orphan of the
		// roll-ups' tally but the reason every counter's report gives for being incomplete.
		if e.Code == engine.CodeFeedMissing || e.Code == engine.CodeFeedTotalMismatch {
			ix.completeness = append(ix.completeness, e)
		}
		if !isCounter[k] {
			ix.orphans = append(ix.orphans, i)
			continue
		}
		ix.exceptions[k] = append(ix.exceptions[k], i)
	}
	for id, rec := range res.Feeds {
		if rec == nil {
			continue
		}
		city, ok1 := rec.Column(feed.ColCity).(*array.String)
		outlet, ok2 := rec.Column(feed.ColOutlet).(*array.String)
		counter, ok3 := rec.Column(feed.ColCounter).(*array.String)
		if !ok1 || !ok2 || !ok3 {
			continue // not the normalized schema; checked again when the sheet is written
		}
		// Rows come grouped by counter: a run of one counter's rows is looked up once, and
		// its row numbers, when they are the counter's first, are a piece of all (0, 1, …,
		// n-1), shared (appending to them copies: their capacity ends with the run).
		n := int(rec.NumRows())
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		for i := 0; i < n; {
			k := key{city.Value(i), outlet.Value(i), counter.Value(i)}
			j := i + 1
			for j < n && counter.Value(j) == k.counter && outlet.Value(j) == k.outlet && city.Value(j) == k.city {
				j++
			}
			r := ix.rows[k]
			if r == nil {
				// The record's strings live in Arrow buffers; the map keeps its own copies.
				k = key{strings.Clone(k.city), strings.Clone(k.outlet), strings.Clone(k.counter)}
				r = new([feed.Count][]int)
				ix.rows[k] = r
			}
			if r[id] == nil {
				r[id] = all[i:j:j]
			} else {
				r[id] = append(r[id], all[i:j]...)
			}
			i = j
		}
	}
	return ix
}

// counterView is one counter's report: its figures as the tables show them.
type counterView struct {
	info engine.CounterInfo
	ix   *runIndex
	// gross, reversed, net [category][method], in fen.
	gross, reversed, net [][]int64
	// expected, deposited, variance [method], in fen.
	expected, deposited, variance []int64
	exceptions                    []engine.Exception // ERRORs first, then as the Result has them
	errors, warnings              int
	rows                          *[feed.Count][]int // nil when the counter has no rows
	// cert is what the certified report adds (Certified); nil in a run's own reports.
	cert *certView
}

// why are the reasons v's figures are incomplete, in l's language.
func (v *counterView) why(l *labels) []string { return l.whyLines(v.ix.completeness, v.info.Counter) }

func (ix *runIndex) counter(c engine.CounterInfo) *counterView {
	if m := ix.views[keyOf(c)]; m != nil {
		m.once.Do(func() { m.v = ix.newCounterView(c) })
		return m.v
	}
	return ix.newCounterView(c)
}

func (ix *runIndex) newCounterView(c engine.CounterInfo) *counterView {
	k := keyOf(c)
	v := &counterView{info: c, ix: ix, rows: ix.rows[k]}
	nc, nm := len(ix.cats), len(ix.methods)
	v.gross, v.reversed, v.net = grid(nc, nm), grid(nc, nm), grid(nc, nm)
	for _, i := range ix.settlement[k] {
		s := ix.res.Settlement[i]
		ci, mi := slices.Index(ix.cats, s.Category), slices.Index(ix.methods, s.PayMethod)
		v.gross[ci][mi] += s.Gross
		v.reversed[ci][mi] += s.Reversed
		v.net[ci][mi] += s.Net
	}
	v.expected, v.deposited, v.variance = make([]int64, nm), make([]int64, nm), make([]int64, nm)
	for _, i := range ix.variance[k] {
		l := ix.res.Variance[i]
		mi := slices.Index(ix.methods, l.PayMethod)
		v.expected[mi] += l.Expected
		v.deposited[mi] += l.Deposited
		v.variance[mi] += l.Variance
	}
	for _, i := range ix.exceptions[k] {
		e := ix.res.Exceptions[i]
		v.exceptions = append(v.exceptions, e)
		switch e.Severity {
		case engine.SevError:
			v.errors++
		case engine.SevWarning:
			v.warnings++
		}
	}
	slices.SortStableFunc(v.exceptions, func(a, b engine.Exception) int {
		return SevRank(a.Severity) - SevRank(b.Severity)
	})
	return v
}

// SevRank orders severities as the reports list exceptions: errors (0), warnings (1), then
// anything else (2).
func SevRank(s engine.Severity) int {
	switch s {
	case engine.SevError:
		return 0
	case engine.SevWarning:
		return 1
	}
	return 2
}

func grid(rows, cols int) [][]int64 {
	g := make([][]int64, rows)
	for i := range g {
		g[i] = make([]int64, cols)
	}
	return g
}

func sumRow(row []int64) int64 {
	var s int64
	for _, v := range row {
		s += v
	}
	return s
}

func sumCol(g [][]int64, col int) int64 {
	var s int64
	for _, row := range g {
		s += row[col]
	}
	return s
}

func sumAll(g [][]int64) int64 {
	var s int64
	for _, row := range g {
		s += sumRow(row)
	}
	return s
}

// netByCategory is Σ net over pay methods, per category.
func (v *counterView) netByCategory() []int64 {
	out := make([]int64, len(v.net))
	for i, row := range v.net {
		out[i] = sumRow(row)
	}
	return out
}
