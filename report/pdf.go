package report

import (
	"fmt"
	"slices"
	"time"

	"settle/engine"
	"settle/internal/i18n"
)

// pdfDoc is one counter's PDF being drawn.
type pdfDoc struct {
	p    *liteDoc
	l    *labels
	font *runFont
	v    *counterView
	r    *renderer
	size float64 // current font size, pt
	// pw, ph are the page's size in mm when it is not A4 portrait (the roll-ups: landscape).
	pw, ph float64
}

// counterPDF writes a counter's PDF.
func (r *renderer) counterPDF(v *counterView, rel string) error {
	p, err := r.buildPDF(v)
	if err != nil {
		return err
	}
	return r.writePDF(rel, p)
}

// writePDF writes a laid-out document to rel.
func (r *renderer) writePDF(rel string, p *liteDoc) error {
	return r.writeFile(rel, p.Output)
}

// buildPDF lays a counter's report out. A panic while laying it out becomes an error.
func (r *renderer) buildPDF(v *counterView) (p *liteDoc, err error) {
	defer func() {
		if e := recover(); e != nil {
			p, err = nil, fmt.Errorf("pdf: panic: %v", e)
		}
	}()
	created, modified := r.stamp(), r.stamp()
	if v.cert != nil {
		created, modified = v.cert.stamps(created)
	}
	p = r.newPDF(pageW, pageH, created, modified,
		r.l.s(i18n.ReportTitle)+" "+v.info.Counter+" "+r.ix.res.BizDate(), headerLine(r.l, v.info, r.ix.res.BizDate()))
	d := &pdfDoc{p: p, l: r.l, font: r.font, v: v, r: r}
	p.header, p.footer = d.pageHeader, d.pageFooter
	p.AddPage()
	d.first()
	d.revenue()
	d.deposits()
	d.exceptions()
	d.signoff()
	return p, nil
}

// newPDF starts a report's document with what every report shares: w×h mm pages, the run's
// font (a document embeds the glyphs it draws), dates, title and subject, margins, and the
// table lines' width and colour. Every page break is decided by the layout, never inside a
// row.
func (r *renderer) newPDF(w, h float64, created, modified time.Time, title, subject string) *liteDoc {
	p := newLiteDoc(r.font.pdf, w, h, marginX)
	p.cut = true
	p.title, p.subject = title, subject
	p.created, p.modified = created, modified
	p.tMargin = marginTop
	p.SetLineWidth(0.2)
	p.SetDrawColor(166, 166, 166)
	return p
}

// pageHeader draws, from page 2 on, a running head.
func (d *pdfDoc) pageHeader() {
	p, l, c := d.p, d.l, d.v.info
	if saved := d.size; saved > 0 {
		defer d.setFont(saved) // the page goes on in the font it was drawn in
	}
	if p.PageNo() > 1 {
		d.setFont(8)
		d.color(gray)
		p.SetXY(marginX, 6)
		p.CellFormat(contentW*0.7, 5, d.font.clean(l.s(i18n.ReportTitle)+" · "+headerLine(l, c, d.r.ix.res.BizDate()), false), "", 0, "L", false, 0, "")
		status := l.s(i18n.ReportComplete)
		if c.Incomplete {
			status = l.s(i18n.ReportIncomplete)
			d.color(red)
		}
		if d.r.opts.DayOpen {
			status = l.s(i18n.ReportDayOpen) + " · " + status
			d.color(red)
		}
		p.CellFormat(contentW*0.3, 5, d.font.clean(status, false), "", 0, "R", false, 0, "")
		d.color(black)
		p.Line(marginX, 11.5, pageW-marginX, 11.5)
		p.SetXY(marginX, marginTop+2)
	}
}

// pageFooter draws the watermark of an incomplete report over the page, then what the page
// belongs to and "第 X 页 / 共 Y 页".
func (d *pdfDoc) pageFooter() {
	p, l, c := d.p, d.l, d.v.info
	size := d.size
	switch {
	case c.Incomplete:
		d.watermark(l.s(i18n.ReportIncomplete), 66, 55)
	case d.r.opts.DayOpen:
		d.watermark(l.s(i18n.ReportDayOpen), 40, 55)
	}
	p.Line(marginX, pageH-13, pageW-marginX, pageH-13)
	d.setFont(8)
	d.color(gray)
	p.SetXY(marginX, pageH-12)
	left := l.regionName(c.City) + " · " + c.Outlet + " · " + c.Counter
	if d.r.opts.RunID != "" {
		left += " · " + d.r.opts.RunID
	}
	p.CellFormat(contentW*0.6, 5, d.font.clean(left, false), "", 0, "L", false, 0, "")
	// The date leads the page number: pdftotext keeps the spaces of "第 1 页 / 共 2 页" only
	// when its line also has a word longer than one character.
	right := d.r.ix.res.BizDate() + " · " + fmt.Sprintf(l.s(i18n.ReportFooter), p.PageNo())
	p.CellFormat(contentW*0.4, 5, d.font.clean(right, false), "", 0, "R", false, 0, "")
	d.color(black)
	if size > 0 {
		d.setFont(size)
	}
}

// watermark draws text faintly across the page, turned by angle degrees.
func (d *pdfDoc) watermark(text string, size, angle float64) {
	p := d.p
	pw, ph := pageW, pageH
	if d.pw != 0 {
		pw, ph = d.pw, d.ph
	}
	p.SetAlpha(0.16, "Normal")
	d.setFont(size)
	d.color(red)
	text = d.font.clean(text, false)
	w := d.width(text)
	p.TransformBegin()
	p.TransformRotate(angle, pw/2, ph/2)
	p.Text(pw/2-w/2, ph/2+size*0.12, text)
	p.TransformEnd()
	p.SetAlpha(1, "Normal")
	d.color(black)
}

// dayOpenBanner draws the mark of a business day not over, as loud as INCOMPLETE's, and
// what it means.
func (d *pdfDoc) dayOpenBanner() {
	p, l := d.p, d.l
	p.Ln(3)
	d.setFont(20)
	d.fill(red)
	d.color(white)
	p.SetX(marginX)
	p.CellFormat(d.cw(), 13, d.font.clean(l.s(i18n.ReportDayOpen), false), "", 1, "C", true, 0, "")
	d.setFont(9.5)
	d.fill(pinkFill)
	d.color(darkRed)
	for _, line := range d.wrap(l.s(i18n.ReportDayOpenNote), d.cw()-4) {
		d.ensure(5)
		p.SetX(marginX)
		p.CellFormat(d.cw(), 5, line, "", 1, "L", true, 0, "")
	}
	d.color(black)
}

// first draws the title, the header block and, for an incomplete counter, the banner.
func (d *pdfDoc) first() {
	p, l, c, r := d.p, d.l, d.v.info, d.r
	d.setFont(17)
	p.SetXY(marginX, marginTop)
	p.CellFormat(contentW, 10, d.font.clean(l.s(i18n.ReportTitle), false), "", 1, "C", false, 0, "")
	p.Ln(2)

	status, sFill, sText := l.s(i18n.ReportComplete), okFill, green
	if c.Incomplete {
		status, sFill, sText = l.s(i18n.ReportIncomplete), red, white
	}
	info := [][4]string{
		{l.s(i18n.ReportCity), l.regionName(c.City), l.s(i18n.ReportOutlet), c.Outlet},
		{l.s(i18n.ReportCounter), c.Counter, l.s(i18n.ReportDate), r.ix.res.BizDate()},
		{l.s(i18n.ReportRunID), r.opts.RunID, l.s(i18n.ReportGenerated), formatTime(r.opts.GeneratedAt)},
		{l.s(i18n.ReportSource), r.opts.Source, l.s(i18n.ReportStatus), status},
	}
	if cert := d.v.cert; cert != nil { // before the status row, which stays last
		state := l.s(i18n.ReportCertifiedAwaits)
		if cert.approved() {
			state = l.s(i18n.ReportApprovedState)
		}
		row := [4]string{l.s(i18n.ReportSignState), state, l.s(i18n.ReportCertifiedAt), formatTime(shanghai(cert.sign.CertifiedAt))}
		info = append(info[:len(info)-1], row, info[len(info)-1])
	}
	const lw, rowH = 26.0, 7.5
	vw := contentW/2 - lw
	for i, kv := range info {
		p.SetX(marginX)
		d.setFont(9)
		d.cell(lw, rowH, kv[0], "1", "L", headFill, black)
		d.setFont(10)
		d.cell(vw, rowH, kv[1], "1", "L", noFill, black)
		d.setFont(9)
		d.cell(lw, rowH, kv[2], "1", "L", headFill, black)
		d.setFont(10)
		if i == len(info)-1 {
			d.setFont(11)
			d.cell(vw, rowH, kv[3], "1", "L", sFill, sText)
		} else {
			d.cell(vw, rowH, kv[3], "1", "L", noFill, black)
		}
		p.Ln(rowH)
	}

	if r.opts.DayOpen {
		d.dayOpenBanner()
	}
	if !c.Incomplete {
		return
	}
	p.Ln(3)
	d.setFont(22)
	d.fill(red)
	d.color(white)
	p.SetX(marginX)
	p.CellFormat(contentW, 15, d.font.clean(l.s(i18n.ReportIncomplete), false), "", 1, "C", true, 0, "")
	d.setFont(9.5)
	d.reasonBox(l.s(i18n.ReportIncompleteNote), d.v.why(l))
}

// reasonBox draws the pink box under an INCOMPLETE banner: the note, then each reason as a
// bullet, wrapped to the content width and kept on the page line by line.
func (d *pdfDoc) reasonBox(note string, reasons []string) {
	p, w := d.p, d.cw()
	lines := d.wrap(note, w-4)
	for _, why := range reasons {
		for i, line := range d.wrap(why, w-8) {
			if i == 0 {
				line = "• " + line
			} else {
				line = "  " + line
			}
			lines = append(lines, line)
		}
	}
	const lh = 5.0
	for i, line := range lines {
		d.ensure(lh)
		d.fill(pinkFill)
		d.color(darkRed)
		p.SetX(marginX)
		h := lh
		if i == len(lines)-1 {
			h += 1.5
		}
		p.CellFormat(w, h, line, "", 1, "L", true, 0, "")
	}
	d.color(black)
}

// revenue draws the category × pay method table: gross, reversed and net per category.
func (d *pdfDoc) revenue() {
	p, l, ix, v := d.p, d.l, d.r.ix, d.v
	const catW, itemW, lineH = 30.0, 14.0, 4.6
	nm := len(ix.methods)
	mw := (contentW - catW - itemW) / float64(nm+1)
	cols := []tcol{{itemW, "C"}}
	for range nm + 1 {
		cols = append(cols, tcol{mw, "R"})
	}
	rowH := lineH + 2
	size := 8.0
	if nm > 5 {
		size = 7
	}
	d.sectionTitle(l.s(i18n.ReportRevenue), l.s(i18n.ReportUnit), 2*rowH+3*rowH)
	head := func() {
		d.setFont(8)
		p.SetX(marginX)
		hc := []tcol{{catW, "C"}, {itemW, "C"}}
		cells := []tcell{{text: l.s(i18n.ReportCategory)}, {text: l.s(i18n.ReportItem)}}
		for _, m := range ix.methods {
			hc = append(hc, tcol{mw, "C"})
			cells = append(cells, tcell{text: l.payMethodName(m)})
		}
		hc = append(hc, tcol{mw, "C"})
		cells = append(cells, tcell{text: l.s(i18n.ReportTotal)})
		d.tableRow(hc, cells, 4, headFill, nil)
		d.setFont(size)
	}
	head()
	kinds := []struct {
		name string
		g    [][]int64
	}{{l.s(i18n.ReportGross), v.gross}, {l.s(i18n.ReportReversed), v.reversed}, {l.s(i18n.ReportNet), v.net}}
	block := func(name string, fill rgb, values func(k, m int) int64, total func(k int) int64) {
		if d.ensure(3 * rowH) {
			head()
		}
		x, y := marginX, p.GetY()
		d.setFont(8.5)
		if fill != noFill {
			d.fill(fill)
			p.Rect(x, y, catW, 3*rowH, "FD")
		} else {
			p.Rect(x, y, catW, 3*rowH, "D")
		}
		lines := d.wrap(name, catW-2)
		top := y + (3*rowH-float64(len(lines))*4.2)/2
		for j, line := range lines {
			p.SetXY(x, top+float64(j)*4.2)
			p.CellFormat(catW, 4.2, line, "", 0, "C", false, 0, "")
		}
		d.setFont(size)
		p.SetXY(x+catW, y)
		for k, kind := range kinds {
			cells := []tcell{{text: kind.name}}
			for m := range ix.methods {
				cells = append(cells, moneyCell(values(k, m)))
			}
			t := moneyCell(total(k))
			if fill == noFill {
				t.fill = sumFill
			}
			cells = append(cells, t)
			rf := fill
			if k == 2 && fill == noFill { // net: the figure that counts
				rf = rgb{250, 250, 250}
			}
			d.tableRow(cols, cells, lineH, rf, nil)
			p.SetX(x + catW)
		}
		p.SetX(marginX)
	}
	for ci, c := range ix.cats {
		block(l.categoryName(c), noFill,
			func(k, m int) int64 { return kinds[k].g[ci][m] },
			func(k int) int64 { return sumRow(kinds[k].g[ci]) })
	}
	block(l.s(i18n.ReportTotal), sumFill,
		func(k, m int) int64 { return sumCol(kinds[k].g, m) },
		func(k int) int64 { return sumAll(kinds[k].g) })
}

// deposits draws the deposit check: expected, deposited and variance per pay method.
func (d *pdfDoc) deposits() {
	l, ix, v := d.l, d.r.ix, d.v
	cols := []tcol{{42, "L"}, {36, "R"}, {36, "R"}, {36, "R"}, {36, "C"}}
	const lineH = 4.6
	d.sectionTitle(l.s(i18n.ReportDeposit), l.s(i18n.ReportUnit), 3*(lineH+2))
	head := func() {
		d.setFont(8)
		d.p.SetX(marginX)
		d.tableRow(cols, []tcell{{text: l.s(i18n.ReportPayMethod)}, {text: l.s(i18n.ReportExpected)}, {text: l.s(i18n.ReportDeposited)}, {text: l.s(i18n.ReportVariance)}, {text: l.s(i18n.ReportResult)}}, 4, headFill, nil)
		d.setFont(8.5)
	}
	head()
	var exp, dep int64
	for mi, m := range ix.methods {
		vc, res := moneyCell(v.variance[mi]), tcell{text: l.s(i18n.ReportBalanced)}
		switch {
		case v.variance[mi] < 0:
			vc.fill, vc.color = pinkFill, darkRed
			res = tcell{text: l.s(i18n.ReportShort), color: darkRed, fill: pinkFill}
		case v.variance[mi] > 0:
			res = tcell{text: l.s(i18n.ReportOver)}
		}
		d.p.SetX(marginX)
		d.tableRow(cols, []tcell{{text: l.payMethodName(m)}, moneyCell(v.expected[mi]), moneyCell(v.deposited[mi]), vc, res}, lineH, noFill, head)
		exp += v.expected[mi]
		dep += v.deposited[mi]
	}
	d.p.SetX(marginX)
	d.tableRow(cols, []tcell{{text: l.s(i18n.ReportTotal)}, moneyCell(exp), moneyCell(dep), {}, {}}, lineH, sumFill, head)
}

// exceptions draws the counter's exceptions, long text wrapped.
func (d *pdfDoc) exceptions() {
	l, v := d.l, d.v
	summary := l.s(i18n.ReportNoExceptions)
	if n := len(v.exceptions); n > 0 {
		summary = fmt.Sprintf(l.s(i18n.ReportExceptionCount), n, v.errors, v.warnings)
	}
	if len(v.exceptions) == 0 {
		d.sectionTitle(l.s(i18n.ReportExceptions), summary, 14)
		return
	}
	d.setFont(7.5)
	sevW := 13.0
	for _, s := range []string{l.s(i18n.ReportSeverity), l.s(i18n.ReportSevError), l.s(i18n.ReportSevWarning)} {
		sevW = max(sevW, d.width(d.font.clean(s, false))+2*d.p.GetCellMargin()+1)
	}
	// Transaction ids and sources are looked for as a whole: their columns widen to the
	// longest (within bounds), and the detail column takes what is left.
	fit := func(lo, hi float64, texts ...string) float64 {
		w := lo
		for _, s := range texts {
			w = max(w, d.width(d.font.clean(s, false))+2*d.p.GetCellMargin()+0.5)
		}
		return min(w, hi)
	}
	var wheres, sources []string
	for _, e := range v.exceptions {
		wheres = append(wheres, l.feedName(e.Feed), e.TxnID)
		sources = append(sources, e.Source)
	}
	whereW, sourceW := fit(26, 42, wheres...), fit(24, 40, sources...)
	const codeW, amountW, lineH = 45.0, 19.0, 3.5
	cols := []tcol{{sevW, "C"}, {codeW, "L"}, {whereW, "L"}, {amountW, "R"}, {contentW - sevW - codeW - whereW - amountW - sourceW, "L"}, {sourceW, "L"}}
	rowOf := func(e engine.Exception) []tcell {
		sev := tcell{text: l.severityName(e.Severity)}
		if e.Severity == engine.SevError {
			sev.color = red
		}
		amount := tcell{}
		if e.HasAmount {
			amount = moneyCell(e.Amount)
		}
		where := l.feedName(e.Feed)
		if e.TxnID != "" {
			where += "\n" + e.TxnID
		}
		return []tcell{sev, {text: string(e.Code) + "\n" + l.codeDescription(e.Code)}, {text: where}, amount, {text: e.Detail}, {text: e.Source}}
	}
	// In the certified report an item's line stays on the page of its exception.
	itemCols := []tcol{{contentW, "L"}}
	itemOf := func(i int) []tcell {
		if c := v.cert; c != nil && c.items[i] != nil {
			return []tcell{{text: c.lines[i], color: stateColor(c.items[i].State)}}
		}
		return nil
	}
	pairH := func(i int) float64 {
		_, h := d.rowLines(cols, rowOf(v.exceptions[i]), lineH)
		if item := itemOf(i); item != nil {
			_, h2 := d.rowLines(itemCols, item, lineH)
			h += h2
		}
		return h
	}
	keep := 14.0
	if itemOf(0) != nil {
		keep = max(keep, 6+min(pairH(0), bodyBottom-marginTop-30))
	}
	d.sectionTitle(l.s(i18n.ReportExceptions), summary, keep)
	head := func() {
		d.setFont(7.5)
		d.p.SetX(marginX)
		d.tableRow(cols, []tcell{{text: l.s(i18n.ReportSeverity)}, {text: l.s(i18n.ReportCode) + " / " + l.s(i18n.ReportDescription)}, {text: l.s(i18n.ReportFeedCol) + " / " + l.s(i18n.ReportTxn)},
			{text: l.s(i18n.ReportAmount)}, {text: l.s(i18n.ReportDetail)}, {text: l.s(i18n.ReportSourceCol)}}, 3.8, headFill, nil)
		d.setFont(7.5)
	}
	head()
	for i, e := range v.exceptions {
		item := itemOf(i)
		if item != nil {
			if h := pairH(i); h <= bodyBottom-marginTop-10 && d.ensure(h) {
				head()
			}
		}
		d.p.SetX(marginX)
		d.tableRow(cols, rowOf(e), lineH, noFill, head)
		if item != nil {
			d.p.SetX(marginX)
			d.tableRow(itemCols, item, lineH, itemFill, head)
		}
	}
	d.hints()
}

// hints draws what to do about each code of the counter's exceptions, in the order they
// first appear.
func (d *pdfDoc) hints() {
	l := d.l
	var codes []engine.Code
	for _, e := range d.v.exceptions {
		if !slices.Contains(codes, e.Code) && l.hint(e.Code) != "" {
			codes = append(codes, e.Code)
		}
	}
	if len(codes) == 0 {
		return
	}
	const codeW = 45.0
	cols := []tcol{{codeW, "L"}, {contentW - codeW, "L"}}
	head := func() {
		d.setFont(7.5)
		d.p.SetX(marginX)
		d.tableRow(cols, []tcell{{text: l.s(i18n.ReportCode)}, {text: l.s(i18n.ReportHints)}}, 3.8, headFill, nil)
	}
	d.p.Ln(2)
	d.ensure(2 * 8)
	head()
	for _, c := range codes {
		d.p.SetX(marginX)
		d.tableRow(cols, []tcell{{text: string(c)}, {text: l.hint(c)}}, 3.5, noFill, head)
	}
}

// signoff draws the sign-off block, whole on one page.
func (d *pdfDoc) signoff() {
	if d.v.cert != nil {
		d.signedOff()
		return
	}
	p, l := d.p, d.l
	const blockH = 8 + 3 + 6 + 18
	p.Ln(3)
	d.ensure(blockH + 3)
	d.sectionTitle(l.s(i18n.ReportSignoff), "", blockH-8)
	d.setFont(8.5)
	d.color(gray)
	p.SetX(marginX)
	p.CellFormat(contentW, 5, d.font.clean(l.s(i18n.ReportSignNote), false), "", 1, "L", false, 0, "")
	d.color(black)
	p.Ln(10)
	y := p.GetY()
	d.setFont(11)
	p.SetDrawColor(0, 0, 0)
	items := []struct {
		label string
		w     float64
	}{{l.s(i18n.ReportClerk), 66}, {l.s(i18n.ReportReviewer), 66}, {l.s(i18n.ReportSignDate), 54}}
	x := marginX
	for _, it := range items {
		label := d.font.clean(l.colon(it.label), false)
		lw := d.width(label) + 1
		p.SetXY(x, y-6)
		p.CellFormat(lw, 6, label, "", 0, "L", false, 0, "")
		p.Line(x+lw, y, x+it.w-6, y)
		x += it.w
	}
	p.SetDrawColor(166, 166, 166)
	p.SetXY(marginX, y+4)
}

// signedOff draws the certified report's sign-off block: the clerk's name and time, and the
// reviewer's once approved (empty lines to fill until then).
func (d *pdfDoc) signedOff() {
	p, l, c := d.p, d.l, d.v.cert
	const blockH = 8 + 3 + 6 + 2*14
	p.Ln(3)
	d.ensure(blockH + 3)
	d.sectionTitle(l.s(i18n.ReportSignoff), "", blockH-8)
	d.setFont(8.5)
	d.color(gray)
	p.SetX(marginX)
	for _, line := range d.wrap(fmt.Sprintf(l.s(i18n.ReportCertNote), d.r.opts.RunID), contentW-2*cellMargin) {
		p.CellFormat(contentW, 4.5, line, "", 1, "L", false, 0, "")
	}
	d.color(black)
	reviewer, approvedAt := "", ""
	if c.approved() {
		reviewer, approvedAt = c.sign.ReviewerName, formatTime(shanghai(c.sign.ApprovedAt))
	}
	rows := [][2][2]string{
		{{l.s(i18n.ReportClerk), c.sign.ClerkName}, {l.s(i18n.ReportCertifiedAt), formatTime(shanghai(c.sign.CertifiedAt))}},
		{{l.s(i18n.ReportReviewer), reviewer}, {l.s(i18n.ReportApprovedAt), approvedAt}},
	}
	p.SetDrawColor(0, 0, 0)
	y := p.GetY() + 2
	for _, row := range rows {
		y += 12 // the line under the row
		x := marginX
		for i, it := range row {
			w := 80.0
			if i == 1 {
				w = contentW - 80
			}
			d.setFont(11)
			label := d.font.clean(l.colon(it[0]), false)
			lw := d.width(label) + 1
			p.SetXY(x, y-6)
			p.CellFormat(lw, 6, label, "", 0, "L", false, 0, "")
			d.setFont(10)
			d.cell(w-lw-6, 6, it[1], "", "L", noFill, black)
			p.Line(x+lw, y, x+w-6, y)
			x += w
		}
	}
	p.SetDrawColor(166, 166, 166)
	p.SetXY(marginX, y+4)
}
