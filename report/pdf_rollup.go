package report

import (
	"fmt"
	"slices"
	"strings"

	"settle/internal/i18n"
)

// A4 landscape, the roll-ups' page, in mm.
const rollupW, rollupH = pageH, pageW

// rollupDoc is a roll-up's PDF being drawn: the counter report's look on A4 landscape.
type rollupDoc struct {
	*pdfDoc
	ru         *rollup
	incomplete int // counters of the roll-up left incomplete
}

// rollupPDF writes a roll-up's PDF, ru.file + ".pdf": a header block, the INCOMPLETE and
// open-day banners, then for each of its tables the net revenue by category and the deposit
// check by pay method, header rows repeated on every page.
func (r *renderer) rollupPDF(ru *rollup) error {
	p, err := r.buildRollupPDF(ru)
	if err != nil {
		return fmt.Errorf("%s: %w", ru.file, err)
	}
	return r.writePDF(ru.file+".pdf", p)
}

func (r *renderer) buildRollupPDF(ru *rollup) (p *liteDoc, err error) {
	defer func() {
		if e := recover(); e != nil {
			p, err = nil, fmt.Errorf("pdf: panic: %v", e)
		}
	}()
	stamp := r.stamp()
	p = r.newPDF(rollupW, rollupH, stamp, stamp, ru.title, ru.header)
	d := &rollupDoc{pdfDoc: &pdfDoc{p: p, l: r.l, font: r.font, r: r, pw: rollupW, ph: rollupH}, ru: ru}
	for _, c := range ru.counters {
		if c.Incomplete {
			d.incomplete++
		}
	}
	p.header, p.footer = d.pageHeader, d.pageFooter
	p.AddPage()
	d.first()
	for _, tb := range ru.tables {
		d.netTable(tb)
		d.depositTables(tb)
	}
	return p, nil
}

// status is the roll-up's state as the running head shows it.
func (d *rollupDoc) status() (string, rgb) {
	l := d.l
	s, c := l.s(i18n.ReportComplete), gray
	if d.incomplete > 0 {
		s, c = l.s(i18n.ReportIncomplete), red
	}
	if d.r.opts.DayOpen {
		s, c = l.s(i18n.ReportDayOpen)+" · "+s, red
	}
	return s, c
}

// pageHeader draws, from page 2 on, a running head.
func (d *rollupDoc) pageHeader() {
	p := d.p
	if saved := d.size; saved > 0 {
		defer d.setFont(saved)
	}
	if p.PageNo() == 1 {
		return
	}
	d.setFont(8)
	d.color(gray)
	p.SetXY(marginX, 6)
	p.CellFormat(d.cw()*0.6, 5, d.font.clean(d.ru.title, false), "", 0, "L", false, 0, "")
	s, c := d.status()
	d.color(c)
	p.CellFormat(d.cw()*0.4, 5, d.font.clean(s, false), "", 0, "R", false, 0, "")
	d.color(black)
	p.Line(marginX, 11.5, rollupW-marginX, 11.5)
	p.SetXY(marginX, marginTop+2)
}

// pageFooter draws the watermark of an incomplete or open-day roll-up, then what the page
// belongs to and "第 X 页 / 共 Y 页".
func (d *rollupDoc) pageFooter() {
	p, l := d.p, d.l
	size := d.size
	switch {
	case d.incomplete > 0:
		d.watermark(l.s(i18n.ReportIncomplete), 66, 30)
	case d.r.opts.DayOpen:
		d.watermark(l.s(i18n.ReportDayOpen), 48, 30)
	}
	p.Line(marginX, rollupH-13, rollupW-marginX, rollupH-13)
	d.setFont(8)
	d.color(gray)
	p.SetXY(marginX, rollupH-12)
	left := d.ru.header
	if d.r.opts.RunID != "" {
		left += " · " + d.r.opts.RunID
	}
	p.CellFormat(d.cw()*0.6, 5, d.font.clean(left, false), "", 0, "L", false, 0, "")
	right := d.r.ix.res.BizDate() + " · " + fmt.Sprintf(l.s(i18n.ReportFooter), p.PageNo())
	p.CellFormat(d.cw()*0.4, 5, d.font.clean(right, false), "", 0, "R", false, 0, "")
	d.color(black)
	if size > 0 {
		d.setFont(size)
	}
}

// first draws the title, the header block and the banners.
func (d *rollupDoc) first() {
	p, l, r, ru := d.p, d.l, d.r, d.ru
	d.setFont(17)
	p.SetXY(marginX, marginTop)
	title := l.s(i18n.ReportCityTitle)
	if ru.outlet != "" {
		title = l.s(i18n.ReportOutletTitle)
	}
	p.CellFormat(d.cw(), 10, d.font.clean(title, false), "", 1, "C", false, 0, "")
	p.Ln(2)

	status, sFill, sText := l.s(i18n.ReportComplete), okFill, green
	if d.incomplete > 0 {
		status, sFill, sText = l.s(i18n.ReportIncomplete), red, white
	}
	var cities []string
	for _, c := range ru.counters {
		if name := l.regionName(c.City); !slices.Contains(cities, name) {
			cities = append(cities, name) // 太原, as the counters' reports name it
		}
	}
	place, runID, gen := strings.Join(cities, "、"), r.opts.RunID, formatTime(r.opts.GeneratedAt)
	date, n, k := r.ix.res.BizDate(), fmt.Sprint(len(ru.counters)), fmt.Sprint(d.incomplete)
	info := [][4]string{
		{l.s(i18n.ReportCity), place, l.s(i18n.ReportDate), date},
		{l.s(i18n.ReportRunID), runID, l.s(i18n.ReportGenerated), gen},
		{l.s(i18n.ReportSource), r.opts.Source, l.s(i18n.ReportCounters), n},
		{l.s(i18n.ReportIncompleteCount), k, l.s(i18n.ReportStatus), status},
	}
	if ru.outlet != "" {
		info = [][4]string{
			{l.s(i18n.ReportCity), place, l.s(i18n.ReportOutlet), ru.outlet},
			{l.s(i18n.ReportDate), date, l.s(i18n.ReportRunID), runID},
			{l.s(i18n.ReportGenerated), gen, l.s(i18n.ReportSource), r.opts.Source},
			{l.s(i18n.ReportCounters), n, l.s(i18n.ReportStatus), status},
		}
	}
	const lw, rowH = 30.0, 7.0
	vw := d.cw()/2 - lw
	for i, kv := range info {
		p.SetX(marginX)
		d.setFont(9)
		d.cell(lw, rowH, kv[0], "1", "L", headFill, black)
		d.setFont(10)
		d.cell(vw, rowH, kv[1], "1", "L", noFill, black)
		d.setFont(9)
		d.cell(lw, rowH, kv[2], "1", "L", headFill, black)
		if i == len(info)-1 {
			d.setFont(11)
			d.cell(vw, rowH, kv[3], "1", "L", sFill, sText)
		} else {
			d.setFont(10)
			d.cell(vw, rowH, kv[3], "1", "L", noFill, black)
		}
		p.Ln(rowH)
	}
	if r.opts.DayOpen {
		d.dayOpenBanner()
	}
	if d.incomplete == 0 {
		return
	}
	p.Ln(3)
	d.setFont(22)
	d.fill(red)
	d.color(white)
	p.SetX(marginX)
	p.CellFormat(d.cw(), 14, d.font.clean(l.s(i18n.ReportIncomplete), false), "", 1, "C", true, 0, "")
	d.setFont(9.5)
	note := l.s(i18n.ReportIncompleteNote) + " " + fmt.Sprintf(l.s(i18n.ReportRollupIncomplete), d.incomplete, len(ru.counters))
	// Every reason, up to maxReasons lines: a city-wide outage would fill pages with them;
	// the tables below mark each incomplete counter all the same.
	const maxReasons = 30
	// In the report's language, as the counter's report gives them: the city-wide reasons
	// once, then each incomplete counter's own.
	comp := d.r.ix.completeness
	reasons := l.whyLines(comp, "")
	city := len(reasons)
	for _, c := range ru.counters {
		if !c.Incomplete {
			continue
		}
		who := l.colon(c.Outlet + " / " + c.Counter)
		if l.lang == "en" {
			who += " "
		}
		for _, why := range l.whyLines(comp, c.Counter)[city:] {
			reasons = append(reasons, who+why)
		}
	}
	if len(reasons) > maxReasons {
		reasons = append(reasons[:maxReasons-1], fmt.Sprintf("… (+%d)", len(reasons)-(maxReasons-1)))
	}
	d.reasonBox(note, reasons)
}

// The roll-up tables' type size and line height.
const (
	rollupSize  = 7.5
	rollupLineH = 3.8
)

// leadCols sizes the leading columns of tb to their widest text (within bounds).
func (d *rollupDoc) leadCols(tb rollupTable) []tcol {
	d.setFont(rollupSize)
	cols := make([]tcol, len(tb.heads))
	for c, h := range tb.heads {
		w := d.width(d.font.clean(h, false))
		num := true
		for _, row := range tb.rows {
			w = max(w, d.width(d.font.clean(row.lead[c].text(), false)))
			num = num && (row.lead[c].num || row.lead[c].s == "")
		}
		align := "L"
		if num {
			align = "R"
		}
		cols[c] = tcol{min(max(w+2*d.p.GetCellMargin()+1, 14), 46), align}
	}
	return cols
}

// leadCells are a row's leading cells as the PDF shows them.
func leadCells(rw rollupRow) []tcell {
	out := make([]tcell, len(rw.lead))
	for i, c := range rw.lead {
		out[i] = tcell{text: c.text()}
		switch c.mark {
		case markBad:
			out[i].fill, out[i].color = red, white
		case markOK:
			out[i].color = green
		}
	}
	return out
}

// moneyWidth is the width a money column needs for every figure of values.
func (d *rollupDoc) moneyWidth(values []int64) float64 {
	d.setFont(rollupSize)
	w := d.width("-0.00")
	for _, v := range values {
		w = max(w, d.width(formatFen(v)))
	}
	return w + 2*d.p.GetCellMargin() + 1
}

func rowFill(rw rollupRow) rgb {
	if rw.total {
		return sumFill
	}
	return noFill
}

// netTable draws tb's net revenue by category, with each row's errors and warnings.
func (d *rollupDoc) netTable(tb rollupTable) {
	l, ix := d.l, d.r.ix
	lead := d.leadCols(tb)
	var leadW float64
	for _, c := range lead {
		leadW += c.w
	}
	const countW = 14.0
	var values []int64
	for _, rw := range tb.rows {
		values = append(values, rw.t.netCat...)
		values = append(values, sumRow(rw.t.netCat))
	}
	mw := max(d.moneyWidth(values), (d.cw()-leadW-2*countW)/float64(len(ix.cats)+1))
	cols := slices.Clone(lead)
	for range len(ix.cats) + 1 {
		cols = append(cols, tcol{mw, "R"})
	}
	cols = append(cols, tcol{countW, "R"}, tcol{countW, "R"})
	heads := make([]tcell, 0, len(cols))
	for _, h := range tb.heads {
		heads = append(heads, tcell{text: h})
	}
	for _, c := range ix.cats {
		heads = append(heads, tcell{text: l.categoryName(c)})
	}
	heads = append(heads, tcell{text: l.s(i18n.ReportTotal)}, tcell{text: l.s(i18n.ReportErrors)}, tcell{text: l.s(i18n.ReportWarnings)})
	hcols := make([]tcol, len(cols))
	for i, c := range cols {
		hcols[i] = tcol{c.w, "C"}
	}
	var hw [][]string // the header row's lines, the same on every page
	var hh float64
	head := func() {
		d.setFont(rollupSize)
		d.p.SetX(marginX)
		if hw == nil {
			hw, hh = d.rowLines(hcols, heads, rollupLineH)
		}
		d.drawRow(hcols, heads, hw, hh, rollupLineH, headFill, nil)
	}
	d.sectionTitle(tb.name+" · "+l.s(i18n.ReportRollupNet), l.s(i18n.ReportUnit), 3*(rollupLineH+2))
	head()
	for _, rw := range tb.rows {
		cells := leadCells(rw)
		for _, n := range rw.t.netCat {
			cells = append(cells, moneyCell(n))
		}
		t := moneyCell(sumRow(rw.t.netCat))
		t.fill = sumFill
		cells = append(cells, t, countOf(rw.t.errors, red), countOf(rw.t.warnings, black))
		d.p.SetX(marginX)
		d.setFont(rollupSize)
		d.tableRow(cols, cells, rollupLineH, rowFill(rw), head)
	}
}

// countOf is a count, in c when it is not 0.
func countOf(n int, c rgb) tcell {
	t := tcell{text: fmt.Sprint(n)}
	if n > 0 {
		t.color = c
	}
	return t
}

// depositTables draws tb's deposit check: expected, deposited and variance per pay method,
// as many pay methods to a table as fit the page's width.
func (d *rollupDoc) depositTables(tb rollupTable) {
	l, ix := d.l, d.r.ix
	lead := d.leadCols(tb)
	var leadW float64
	for _, c := range lead {
		leadW += c.w
	}
	var values []int64
	for _, rw := range tb.rows {
		values = append(values, rw.t.exp...)
		values = append(values, rw.t.dep...)
		values = append(values, rw.t.vari...)
	}
	mw := max(d.moneyWidth(values), 17)
	per := max(1, int((d.cw()-leadW)/(3*mw)))
	per = (len(ix.methods) + (len(ix.methods)+per-1)/per - 1) / ((len(ix.methods) + per - 1) / per) // even out the tables
	mw = max(mw, (d.cw()-leadW)/float64(3*per))
	for start := 0; start < len(ix.methods); start += per {
		methods := ix.methods[start:min(start+per, len(ix.methods))]
		cols := slices.Clone(lead)
		group := []tcol{{leadW, "C"}}
		groupCells := []tcell{{}}
		heads := make([]tcell, 0, len(cols)+3*len(methods))
		for _, h := range tb.heads {
			heads = append(heads, tcell{text: h})
		}
		for _, m := range methods {
			cols = append(cols, tcol{mw, "R"}, tcol{mw, "R"}, tcol{mw, "R"})
			group = append(group, tcol{3 * mw, "C"})
			groupCells = append(groupCells, tcell{text: l.payMethodName(m)})
			heads = append(heads, tcell{text: l.s(i18n.ReportExpected)}, tcell{text: l.s(i18n.ReportDeposited)}, tcell{text: l.s(i18n.ReportVariance)})
		}
		hcols := make([]tcol, len(cols))
		for i, c := range cols {
			hcols[i] = tcol{c.w, "C"}
		}
		var gw, hw [][]string // the header rows' lines, the same on every page
		var gh, hh float64
		head := func() {
			d.setFont(rollupSize)
			d.ensure(2*(rollupLineH+2) + rollupLineH + 2)
			if gw == nil {
				gw, gh = d.rowLines(group, groupCells, rollupLineH)
				hw, hh = d.rowLines(hcols, heads, rollupLineH)
			}
			d.p.SetX(marginX)
			d.drawRow(group, groupCells, gw, gh, rollupLineH, headFill, nil)
			d.p.SetX(marginX)
			d.drawRow(hcols, heads, hw, hh, rollupLineH, headFill, nil)
		}
		d.sectionTitle(tb.name+" · "+l.s(i18n.ReportRollupDeposit), l.s(i18n.ReportUnit), 3*(rollupLineH+2))
		head()
		for _, rw := range tb.rows {
			cells := leadCells(rw)
			for _, m := range methods {
				mi := slices.Index(ix.methods, m)
				vc := moneyCell(rw.t.vari[mi])
				if rw.t.vari[mi] < 0 {
					vc.fill, vc.color = pinkFill, darkRed
				}
				cells = append(cells, moneyCell(rw.t.exp[mi]), moneyCell(rw.t.dep[mi]), vc)
			}
			d.p.SetX(marginX)
			d.setFont(rollupSize)
			d.tableRow(cols, cells, rollupLineH, rowFill(rw), head)
		}
	}
}
