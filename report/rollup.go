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

// rollupRow is one row of a roll-up table: leading cells, then the tally.
type rollupRow struct {
	lead  []lcell
	t     *tally
	total bool
}

// lcell is a leading cell of a roll-up row: a text, or a count (num), marked good (green),
// bad (red) or not at all.
type lcell struct {
	s    string
	n    int
	num  bool
	mark int // markNone, markOK, markBad
}

const (
	markNone = iota
	markOK
	markBad
)

func textCell(s string) lcell { return lcell{s: s} }
func countCell(n int) lcell   { return lcell{n: n, num: true} }
func (c lcell) text() string {
	if c.num {
		return fmt.Sprint(c.n)
	}
	return c.s
}
func markCell(c lcell, m int) lcell { c.mark = m; return c }

// rollup is a roll-up report's content, shared by its XLSX and its PDF.
type rollup struct {
	title, header string // the title, and what the pages belong to
	file          string // path without extension: reports/city, reports/<outlet>/outlet
	outlet        string // "" for the city
	counters      []engine.CounterInfo
	tables        []rollupTable
}

// rollupTable is one sheet of the XLSX, one pair of tables (net, deposits) in the PDF.
type rollupTable struct {
	name  string // sheet name, PDF section title
	heads []string
	rows  []rollupRow
}

// xlsxCell is a leading cell as the sheet shows it.
func (c lcell) xlsxCell(st *styles, total bool) excelize.Cell {
	style := st.text
	switch {
	case c.mark == markBad:
		style = st.statusBad
	case c.mark == markOK:
		style = st.statusOK
	case total:
		style = st.totalText
	case c.num:
		style = st.integer
	}
	if c.num {
		return excelize.Cell{Value: c.n, StyleID: style}
	}
	return str(c.s, style)
}

// rollupSheet writes a roll-up table: a title row, two header rows (groups, then columns),
// the rows, frozen headers and ids, an autofilter. It prints on one page width, landscape,
// its header rows repeated on every page.
func (r *renderer) rollupSheet(b *book, title string, tb rollupTable) error {
	l, st, ix := r.l, &b.st, r.ix
	leadHeads, rws := tb.heads, tb.rows
	nl := len(leadHeads)
	ncol := nl + len(ix.cats) + 1 + 3*len(ix.methods) + 2
	widths := make([]float64, ncol)
	for c, h := range leadHeads {
		wmax := sheettext.Width(h)
		for _, row := range rws {
			if !row.lead[c].num {
				wmax = max(wmax, sheettext.Width(row.lead[c].s))
			}
		}
		widths[c] = colWidth(wmax, 8, 40)
	}
	for c := nl; c < ncol; c++ {
		widths[c] = 14
	}
	lastCell, _ := excelize.CoordinatesToCellName(ncol, len(rws)+3)
	firstHead, _ := excelize.CoordinatesToCellName(1, 3)
	sw, err := b.sheet(sheetSetup{name: tb.name, landscape: true, widths: widths, freeze: 3, freezeCol: nl, filter: firstHead + ":" + lastCell, wide: true})
	if err != nil {
		return err
	}
	w := xlsxrows.New(sw, 0)
	titleStyle := st.section
	if r.opts.DayOpen {
		title += " · " + l.s(i18n.ReportDayOpen)
		titleStyle = st.statusBad
	}
	w.AddHeight(26, str(title, titleStyle))
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
			row = append(row, cell.xlsxCell(st, rw.total))
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

// orphanTally counts the findings of no counter (runIndex.orphans) whose outlet is outlet,
// or all of them when outlet is "".
func (ix *runIndex) orphanTally(outlet string) *tally {
	t := ix.newTally()
	for _, i := range ix.orphans {
		e := ix.res.Exceptions[i]
		if outlet != "" && e.Outlet != outlet {
			continue
		}
		switch e.Severity {
		case engine.SevError:
			t.errors++
		case engine.SevWarning:
			t.warnings++
		}
	}
	return t
}

// orphanRow is the line of the findings of no counter, nil when there are none.
func (r *renderer) orphanRow(t *tally, n int) *rollupRow {
	if t.errors+t.warnings == 0 {
		return nil
	}
	lead := make([]lcell, n)
	for i := range lead {
		lead[i] = textCell("")
	}
	lead[0] = textCell(r.l.s(i18n.ReportNoCounter))
	return &rollupRow{lead: lead, t: t}
}

// counterRows are the roll-up rows of counters, one per counter in order, then the line of
// the findings of no counter (orphans, when it has any), then a totals row of them all.
func (r *renderer) counterRows(counters []engine.CounterInfo, orphans *tally) []rollupRow {
	l := r.l
	total := r.ix.newTally()
	rws := make([]rollupRow, 0, len(counters)+2)
	for _, c := range counters {
		t := r.ix.newTally()
		t.add(r.ix.counter(c))
		total.merge(t)
		status := markCell(textCell(l.s(i18n.ReportComplete)), markOK)
		if c.Incomplete {
			status = markCell(textCell(l.s(i18n.ReportIncomplete)), markBad)
		}
		rws = append(rws, rollupRow{lead: []lcell{textCell(c.City), textCell(c.Outlet), textCell(c.Counter), status}, t: t})
	}
	if o := r.orphanRow(orphans, 4); o != nil {
		rws = append(rws, *o)
		total.merge(orphans)
	}
	status := markCell(textCell(l.s(i18n.ReportComplete)), markOK)
	if total.incomplete > 0 {
		status = markCell(textCell(l.s(i18n.ReportIncomplete)), markBad)
	}
	rws = append(rws, rollupRow{lead: []lcell{textCell(l.s(i18n.ReportTotal)), textCell(""), countCell(total.counters), status}, t: total, total: true})
	return rws
}

func (r *renderer) counterHeads() []string {
	l := r.l
	return []string{l.s(i18n.ReportCity), l.s(i18n.ReportOutlet), l.s(i18n.ReportCounter), l.s(i18n.ReportStatus)}
}

// outletRollupData is reports/<outlet>/outlet's content: one row per counter of the outlet,
// counters being the outlet's counters in sortedCounters order.
func (r *renderer) outletRollupData(outlet string, counters []engine.CounterInfo) *rollup {
	l := r.l
	date := r.ix.res.BizDate()
	title := fmt.Sprintf("%s · %s · %s", l.s(i18n.ReportOutletTitle), outlet, date)
	if r.opts.RunID != "" {
		title += " · " + r.opts.RunID
	}
	return &rollup{title: title, header: outlet + " · " + date, file: "reports/" + outlet + "/outlet", outlet: outlet, counters: counters,
		tables: []rollupTable{{name: l.s(i18n.ReportCountersSheet), heads: r.counterHeads(), rows: r.counterRows(counters, r.ix.orphanTally(outlet))}}}
}

// cityRollupData is reports/city's content: the outlets, then the counters.
func (r *renderer) cityRollupData() *rollup {
	l, res := r.l, r.ix.res
	date := res.BizDate()
	title := fmt.Sprintf("%s · %s", l.s(i18n.ReportCityTitle), date)
	if r.opts.RunID != "" {
		title += " · " + r.opts.RunID
	}
	// The counters' rows, for the second table; their tallies are added up for the first.
	counters := r.sorted
	orphans := r.ix.orphanTally("")
	crws := r.counterRows(counters, orphans)

	// Outlets by city and id, with a subtotal per city when the run has more than one, the
	// findings of no counter, and the grand total.
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
	incomplete := func(t *tally) lcell {
		if t.incomplete > 0 {
			return markCell(countCell(t.incomplete), markBad)
		}
		return countCell(t.incomplete)
	}
	var rws []rollupRow
	for i, g := range groups {
		rws = append(rws, rollupRow{lead: []lcell{textCell(g.city), textCell(g.outlet), countCell(g.t.counters), incomplete(g.t)}, t: g.t})
		if len(cityOrder) > 1 && (i == len(groups)-1 || groups[i+1].city != g.city) {
			ct := cities[g.city]
			rws = append(rws, rollupRow{lead: []lcell{textCell(fmt.Sprintf(l.s(i18n.ReportTotalOf), g.city)), textCell(""), countCell(ct.counters), incomplete(ct)}, t: ct, total: true})
		}
	}
	if o := r.orphanRow(orphans, 4); o != nil {
		rws = append(rws, *o)
		grand.merge(orphans)
	}
	rws = append(rws, rollupRow{lead: []lcell{textCell(l.s(i18n.ReportTotal)), textCell(""), countCell(grand.counters), incomplete(grand)}, t: grand, total: true})
	return &rollup{title: title, header: date, file: "reports/city", counters: counters, tables: []rollupTable{
		{name: l.s(i18n.ReportOutletsSheet), heads: []string{l.s(i18n.ReportCity), l.s(i18n.ReportOutlet), l.s(i18n.ReportCounters), l.s(i18n.ReportIncompleteCount)}, rows: rws},
		{name: l.s(i18n.ReportCountersSheet), heads: r.counterHeads(), rows: crws},
	}}
}

// rollupXLSX writes a roll-up's workbook, file + ".xlsx".
func (r *renderer) rollupXLSX(ru *rollup) error {
	b, err := r.newBook(r.stamp(), ru.title, ru.header)
	if err != nil {
		return err
	}
	if r.opts.DayOpen {
		b.warn = r.l.s(i18n.ReportDayOpen)
	}
	for _, tb := range ru.tables {
		if err := r.rollupSheet(b, ru.title, tb); err != nil {
			return fmt.Errorf("%s: sheet %q: %w", ru.file, tb.name, err)
		}
	}
	return b.save(r, ru.file+".xlsx")
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
