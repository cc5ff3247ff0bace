package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"settle/engine"
	"settle/internal/i18n"
	"settle/internal/sheettext"
	"settle/internal/xlsxrows"
)

// tally adds up counters for a roll-up row.
type tally struct {
	counters, incomplete int
	netCat               []int64 // per category
	exp, dep, vari       []int64 // per pay method
	errors, warnings     int
}

func (ix *runIndex) newTally() *tally {
	return &tally{
		netCat: make([]int64, len(ix.cats)),
		exp:    make([]int64, len(ix.methods)), dep: make([]int64, len(ix.methods)), vari: make([]int64, len(ix.methods)),
	}
}

func (t *tally) add(v *counterView) {
	t.counters++
	if v.info.Incomplete {
		t.incomplete++
	}
	for i, n := range v.netByCategory() {
		t.netCat[i] += n
	}
	for i := range t.exp {
		t.exp[i] += v.expected[i]
		t.dep[i] += v.deposited[i]
		t.vari[i] += v.variance[i]
	}
	t.errors += v.errors
	t.warnings += v.warnings
}

func (t *tally) merge(o *tally) {
	t.counters += o.counters
	t.incomplete += o.incomplete
	for i := range t.netCat {
		t.netCat[i] += o.netCat[i]
	}
	for i := range t.exp {
		t.exp[i] += o.exp[i]
		t.dep[i] += o.dep[i]
		t.vari[i] += o.vari[i]
	}
	t.errors += o.errors
	t.warnings += o.warnings
}

// rollupRow is one row of a roll-up sheet: leading text cells, then the tally.
type rollupRow struct {
	lead  []excelize.Cell
	t     *tally
	total bool
}

// rollupSheet writes a roll-up table: a title row, two header rows (groups, then columns),
// the rows, frozen headers and ids, an autofilter.
func (r *renderer) rollupSheet(b *book, name, title string, leadHeads []string, rws []rollupRow) error {
	l, st, ix := r.l, &b.st, r.ix
	nl := len(leadHeads)
	ncol := nl + len(ix.cats) + 1 + 3*len(ix.methods) + 2
	widths := make([]float64, ncol)
	for c, h := range leadHeads {
		wmax := sheettext.Width(h)
		for _, row := range rws {
			if s, ok := row.lead[c].Value.(string); ok {
				wmax = max(wmax, sheettext.Width(s))
			}
		}
		widths[c] = colWidth(wmax, 8, 40)
	}
	for c := nl; c < ncol; c++ {
		widths[c] = 14
	}
	lastCell, _ := excelize.CoordinatesToCellName(ncol, len(rws)+3)
	firstHead, _ := excelize.CoordinatesToCellName(1, 3)
	sw, err := b.sheet(sheetSetup{name: name, landscape: true, widths: widths, freeze: 3, freezeCol: nl, filter: firstHead + ":" + lastCell, wide: true})
	if err != nil {
		return err
	}
	w := xlsxrows.New(sw, 0)
	w.AddHeight(26, str(title, st.section))
	w.Merge(1, 1, min(ncol, 12), 1)

	// Header rows: groups on row 2, columns on row 3; single columns span both.
	g, h := make([]any, ncol), make([]any, ncol)
	for c := range ncol {
		g[c], h[c] = str("", st.th), str("", st.th)
	}
	var merges [][4]int
	c := 0
	for _, s := range leadHeads {
		g[c] = str(s, st.th)
		merges = append(merges, [4]int{c + 1, 2, c + 1, 3})
		c++
	}
	g[c] = str(l.s(i18n.ReportNet), st.th)
	merges = append(merges, [4]int{c + 1, 2, c + len(ix.cats) + 1, 2})
	for _, cat := range ix.cats {
		h[c] = str(l.categoryName(cat), st.th)
		c++
	}
	h[c] = str(l.s(i18n.ReportTotal), st.th)
	c++
	for _, m := range ix.methods {
		g[c] = str(l.payMethodName(m), st.th)
		merges = append(merges, [4]int{c + 1, 2, c + 3, 2})
		h[c], h[c+1], h[c+2] = str(l.s(i18n.ReportExpected), st.th), str(l.s(i18n.ReportDeposited), st.th), str(l.s(i18n.ReportVariance), st.th)
		c += 3
	}
	g[c], g[c+1] = str(l.s(i18n.ReportErrors), st.th), str(l.s(i18n.ReportWarnings), st.th)
	merges = append(merges, [4]int{c + 1, 2, c + 1, 3}, [4]int{c + 2, 2, c + 2, 3})
	w.AddHeight(20, g...)
	w.AddHeight(30, h...)
	for _, m := range merges {
		w.Merge(m[0], m[1], m[2], m[3])
	}

	for _, rw := range rws {
		money, count := st.money, st.integer
		if rw.total {
			money, count = st.moneyBold, st.totalText
		}
		row := make([]any, 0, ncol)
		for _, cell := range rw.lead {
			row = append(row, cell)
		}
		for _, n := range rw.t.netCat {
			row = append(row, fen(n, money))
		}
		row = append(row, fen(sumRow(rw.t.netCat), st.moneyBold))
		for i := range ix.methods {
			vs := money
			if rw.t.vari[i] < 0 {
				vs = st.moneyShort
			}
			row = append(row, fen(rw.t.exp[i], money), fen(rw.t.dep[i], money), fen(rw.t.vari[i], vs))
		}
		row = append(row, excelize.Cell{Value: rw.t.errors, StyleID: count}, excelize.Cell{Value: rw.t.warnings, StyleID: count})
		w.Add(row...)
	}
	return w.Flush()
}

// counterRows are the roll-up rows of counters, one per counter in order, then a totals row.
func (r *renderer) counterRows(counters []engine.CounterInfo, st *styles) []rollupRow {
	l := r.l
	total := r.ix.newTally()
	rws := make([]rollupRow, 0, len(counters)+1)
	for _, c := range counters {
		t := r.ix.newTally()
		t.add(r.ix.counter(c))
		total.merge(t)
		status, ss := l.s(i18n.ReportComplete), st.statusOK
		if c.Incomplete {
			status, ss = l.s(i18n.ReportIncomplete), st.statusBad
		}
		rws = append(rws, rollupRow{lead: []excelize.Cell{str(c.City, st.text), str(c.Outlet, st.text), str(c.Counter, st.text), str(status, ss)}, t: t})
	}
	status, ss := l.s(i18n.ReportComplete), st.statusOK
	if total.incomplete > 0 {
		status, ss = l.s(i18n.ReportIncomplete), st.statusBad
	}
	rws = append(rws, rollupRow{lead: []excelize.Cell{str(l.s(i18n.ReportTotal), st.totalText), str("", st.totalText), excelize.Cell{Value: total.counters, StyleID: st.totalText}, str(status, ss)}, t: total, total: true})
	return rws
}

// outletRollup writes reports/<outlet>/outlet.xlsx: one row per counter of the outlet,
// counters being the outlet's counters in sortedCounters order.
func (r *renderer) outletRollup(outlet string, counters []engine.CounterInfo) error {
	l := r.l
	date := r.ix.res.BizDate()
	title := fmt.Sprintf("%s · %s · %s", l.s(i18n.ReportOutletTitle), outlet, date)
	if r.opts.RunID != "" {
		title += " · " + r.opts.RunID
	}
	b, err := newBook(l, r.stamp(), title, outlet+" · "+date)
	if err != nil {
		return err
	}
	rws := r.counterRows(counters, &b.st)
	if err := r.rollupSheet(b, l.s(i18n.ReportCountersSheet), title, []string{l.s(i18n.ReportCity), l.s(i18n.ReportOutlet), l.s(i18n.ReportCounter), l.s(i18n.ReportStatus)}, rws); err != nil {
		return fmt.Errorf("outlet %s: %w", outlet, err)
	}
	return b.save(r, "reports/"+outlet+"/outlet.xlsx")
}

// cityRollup writes reports/city.xlsx: the outlets, then the counters.
func (r *renderer) cityRollup() error {
	l, res := r.l, r.ix.res
	date := res.BizDate()
	title := fmt.Sprintf("%s · %s", l.s(i18n.ReportCityTitle), date)
	if r.opts.RunID != "" {
		title += " · " + r.opts.RunID
	}
	b, err := newBook(l, r.stamp(), title, date)
	if err != nil {
		return err
	}
	st := &b.st

	// The counters' rows, for the second sheet; their tallies are added up for the first.
	counters := r.sorted
	crws := r.counterRows(counters, st)

	// Outlets by city and id, with a subtotal per city when
	// the run has more than one, and the grand total.
	type group struct {
		city, outlet string
		t            *tally
	}
	var groups []*group
	cities := map[string]*tally{}
	var cityOrder []string
	grand := r.ix.newTally()
	for i, c := range counters {
		if len(groups) == 0 || groups[len(groups)-1].city != c.City || groups[len(groups)-1].outlet != c.Outlet {
			groups = append(groups, &group{c.City, c.Outlet, r.ix.newTally()})
		}
		t := crws[i].t
		groups[len(groups)-1].t.merge(t)
		if cities[c.City] == nil {
			cities[c.City] = r.ix.newTally()
			cityOrder = append(cityOrder, c.City)
		}
		cities[c.City].merge(t)
		grand.merge(t)
	}
	var rws []rollupRow
	count := func(n int, style int) excelize.Cell { return excelize.Cell{Value: n, StyleID: style} }
	for i, g := range groups {
		rws = append(rws, rollupRow{lead: []excelize.Cell{str(g.city, st.text), str(g.outlet, st.text),
			count(g.t.counters, st.integer), count(g.t.incomplete, incompleteStyle(g.t, st))}, t: g.t})
		if len(cityOrder) > 1 && (i == len(groups)-1 || groups[i+1].city != g.city) {
			ct := cities[g.city]
			rws = append(rws, rollupRow{lead: []excelize.Cell{str(fmt.Sprintf(l.s(i18n.ReportTotalOf), g.city), st.totalText), str("", st.totalText),
				count(ct.counters, st.totalText), count(ct.incomplete, incompleteStyle(ct, st))}, t: ct, total: true})
		}
	}
	rws = append(rws, rollupRow{lead: []excelize.Cell{str(l.s(i18n.ReportTotal), st.totalText), str("", st.totalText),
		count(grand.counters, st.totalText), count(grand.incomplete, incompleteStyle(grand, st))}, t: grand, total: true})
	if err := r.rollupSheet(b, l.s(i18n.ReportOutletsSheet), title, []string{l.s(i18n.ReportCity), l.s(i18n.ReportOutlet), l.s(i18n.ReportCounters), l.s(i18n.ReportIncompleteCount)}, rws); err != nil {
		return fmt.Errorf("city roll-up: %w", err)
	}

	if err := r.rollupSheet(b, l.s(i18n.ReportCountersSheet), title, []string{l.s(i18n.ReportCity), l.s(i18n.ReportOutlet), l.s(i18n.ReportCounter), l.s(i18n.ReportStatus)}, crws); err != nil {
		return fmt.Errorf("city roll-up: %w", err)
	}
	return b.save(r, "reports/city.xlsx")
}

// sortedCounters are the run's counters by city, outlet and counter (the engine sorts them so;
// the roll-ups do not depend on it).
func (ix *runIndex) sortedCounters() []engine.CounterInfo {
	out := slices.Clone(ix.res.Counters)
	slices.SortStableFunc(out, func(a, b engine.CounterInfo) int {
		return cmp.Or(strings.Compare(a.City, b.City), strings.Compare(a.Outlet, b.Outlet), strings.Compare(a.Counter, b.Counter))
	})
	return out
}

func incompleteStyle(t *tally, st *styles) int {
	if t.incomplete > 0 {
		return st.statusBad
	}
	return st.integer
}
