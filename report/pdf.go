package report

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"

	"settle/engine"
	"settle/feed"
	"settle/internal/sheettext"
)

// missingGlyph stands in, visibly, for a character the font cannot draw (beyond U+FFFF, no
// glyph, a control character): fpdf would panic or draw nothing.
const missingGlyph = '□'

// pdfPunct are the characters the PDF code itself writes besides labels and data.
const pdfPunct = "□…•·：（）×→–—"

// runFont is the font every PDF of one run is drawn with: the embedded face cut down to the
// characters the run's reports can contain.
type runFont struct {
	data []byte
	has  []bool // BMP rune → in data
}

// newRunFont cuts the embedded face to the characters of the labels, names and descriptions
// of lang and of every string of res a PDF shows.
func newRunFont(res *engine.Result, l *labels, o *Options) (*runFont, error) {
	base, err := wqyFont()
	if err != nil {
		return nil, err
	}
	set := map[rune]bool{}
	for r := rune(0x20); r < 0x7F; r++ {
		set[r] = true
	}
	for _, r := range pdfPunct {
		set[r] = true
	}
	add := func(ss ...string) {
		for _, s := range ss {
			for _, r := range s {
				set[r] = true
			}
		}
	}
	lv := reflect.ValueOf(l).Elem()
	for i := range lv.NumField() {
		if f := lv.Field(i); f.Kind() == reflect.String {
			add(f.String())
		}
	}
	for _, c := range feed.Categories {
		add(l.categoryName(c.Code))
	}
	for _, m := range feed.PayMethods.Values {
		add(l.payMethodName(m))
	}
	for _, id := range feed.All {
		add(l.feedName(feed.Get(id).Name))
	}
	for _, c := range engine.Codes {
		add(string(c.Code), l.codeDescription(c.Code))
	}
	add(l.severityName(engine.SevError), l.severityName(engine.SevWarning))
	for _, s := range res.Settlement {
		add(l.categoryName(s.Category), l.payMethodName(s.PayMethod))
	}
	for _, v := range res.Variance {
		add(l.payMethodName(v.PayMethod))
	}
	for _, c := range res.Counters {
		add(c.City, c.Outlet, c.Counter)
		add(c.Why...)
	}
	for _, e := range res.Exceptions {
		add(string(e.Code), string(e.Severity), l.severityName(e.Severity), l.feedName(e.Feed), e.TxnID, e.Detail, e.Source)
	}
	add(o.RunID, o.Source, formatTime(o.GeneratedAt), res.BizDate())
	runes := make([]rune, 0, len(set))
	for r := range set {
		if base.has(r) {
			runes = append(runes, r)
		}
	}
	f := &runFont{data: base.subset(runes), has: make([]bool, 0x10000)}
	for _, r := range runes {
		f.has[r] = true
	}
	return f, nil
}

// clean makes s safe for fpdf and the font: every character the font lacks, beyond U+FFFF or
// a control character becomes missingGlyph; tabs become spaces; newlines are kept only when
// multiline (else spaces).
func (f *runFont) clean(s string, multiline bool) string {
	ok := true
	for _, r := range s {
		if r >= 0x10000 || !f.has[r] {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\r':
			continue
		case r == '\n' && multiline:
		case r == '\n' || r == '\t':
			r = ' '
		case r == utf8.RuneError && n <= 1, r >= 0x10000, !f.has[r]:
			r = missingGlyph
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Page geometry, in mm.
const (
	pageW, pageH = 210.0, 297.0
	marginX      = 12.0
	marginTop    = 12.0
	contentW     = pageW - 2*marginX
	bodyBottom   = pageH - 16.0 // content ends here; the footer sits below
	maxCellLines = 40
)

type rgb struct{ r, g, b int }

var (
	black    = rgb{0, 0, 0}
	gray     = rgb{89, 89, 89}
	red      = rgb{192, 0, 0}
	darkRed  = rgb{156, 0, 6}
	green    = rgb{0, 97, 0}
	white    = rgb{255, 255, 255}
	headFill = rgb{231, 230, 230}
	sumFill  = rgb{242, 242, 242}
	pinkFill = rgb{255, 199, 206}
	okFill   = rgb{198, 239, 206}
	noFill   = rgb{-1, -1, -1}
)

// fontFamily is the font's name inside fpdf; fpdf writes it into the PDF as the font's
// BaseFont "utf8wqymicrohei", which subsetTag renames.
const fontFamily = "wqymicrohei"

// pdfDoc is one counter's PDF being drawn.
type pdfDoc struct {
	p    *fpdf.Fpdf
	l    *labels
	font *runFont
	v    *counterView
	r    *renderer
	size float64 // current font size, pt
}

// counterPDF writes a counter's PDF.
func (r *renderer) counterPDF(v *counterView, path string) error {
	p, err := r.buildPDF(v)
	if err != nil {
		return err
	}
	return writeFile(path, func(w io.Writer) error {
		var buf bytes.Buffer
		if err := p.Output(&buf); err != nil {
			return err
		}
		pdf := buf.Bytes()
		subsetTag(pdf)
		_, err := w.Write(pdf)
		return err
	})
}

// The embedded font's name as fpdf writes it, and the subset name subsetTag gives it: a slash,
// six capitals and subsetSuffix.
const (
	fpdfFontName = "/utf8" + fontFamily
	subsetSuffix = "+MicroHei"
)

// The subset name has fpdf's name's length, so renaming in place moves no offset in the file;
// the compiler checks it (a negative uint constant does not compile).
const _ = uint(len(fpdfFontName)-(1+6+len(subsetSuffix))) + uint((1+6+len(subsetSuffix))-len(fpdfFontName))

// subsetTag renames the embedded font in place from fpdf's "utf8wqymicrohei" to
// "XXXXXX+MicroHei", the PDF convention for a subset font (six capitals and a plus; pdffonts
// then lists it as subset). The tag is taken from a hash of the document, so it is the same
// on every render.
func subsetTag(pdf []byte) {
	sum := sha256.Sum256(pdf)
	tag := make([]byte, 0, len(fpdfFontName))
	tag = append(tag, '/')
	for _, b := range sum[:6] {
		tag = append(tag, 'A'+b%26)
	}
	tag = append(tag, subsetSuffix...)
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte(fpdfFontName))
		if i < 0 {
			return
		}
		copy(rest[i:], tag)
		rest = rest[i+len(tag):]
	}
}

// buildPDF lays a counter's report out. A panic inside fpdf becomes an error.
func (r *renderer) buildPDF(v *counterView) (p *fpdf.Fpdf, err error) {
	defer func() {
		if e := recover(); e != nil {
			p, err = nil, fmt.Errorf("pdf: panic: %v", e)
		}
	}()
	p = fpdf.New("P", "mm", "A4", "")
	// Page content streams are left uncompressed: fpdf makes a new ~1 MB zlib compressor
	// for every page of every document, which was a quarter of a PDF's cost (5.4 → 4.0 ms
	// for a one-page report) for 46 → 73 KB. The font is still compressed.
	p.SetCompression(false)
	p.SetCatalogSort(true)
	stamp := r.stamp()
	p.SetCreationDate(stamp)
	p.SetModificationDate(stamp)
	p.AliasNbPages("{nb}") // before the font is added: fpdf sizes its subset by it
	p.AddUTF8FontFromBytes(fontFamily, "", r.font.data)
	p.SetTitle(r.l.title+" "+v.info.Counter+" "+r.ix.res.BizDate(), true)
	p.SetSubject(headerLine(v.info, r.ix.res.BizDate()), true)
	p.SetCreator("settle", true)
	p.SetAuthor("settle", true)
	p.SetMargins(marginX, marginTop, marginX)
	p.SetAutoPageBreak(false, pageH-bodyBottom) // every break is decided here, never inside a row
	p.SetLineWidth(0.2)
	p.SetDrawColor(166, 166, 166)
	d := &pdfDoc{p: p, l: r.l, font: r.font, v: v, r: r}
	p.SetHeaderFunc(d.pageHeader)
	p.SetFooterFunc(d.pageFooter)
	p.AddPage()
	d.first()
	d.revenue()
	d.deposits()
	d.exceptions()
	d.signoff()
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	p.Close()
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return p, nil
}

func (d *pdfDoc) setFont(size float64) {
	d.size = size
	d.p.SetFont(fontFamily, "", size)
}

func (d *pdfDoc) color(c rgb) { d.p.SetTextColor(c.r, c.g, c.b) }

func (d *pdfDoc) fill(c rgb) { d.p.SetFillColor(c.r, c.g, c.b) }

// width of s at the current size.
func (d *pdfDoc) width(s string) float64 { return d.p.GetStringWidth(s) }

// ensure starts a new page unless h mm still fit on this one; it reports whether it did.
func (d *pdfDoc) ensure(h float64) bool {
	if d.p.GetY()+h <= bodyBottom {
		return false
	}
	d.p.AddPage()
	return true
}

// fitted returns s (cleaned) at a size that fits w: the current size, or smaller down to 6 pt,
// or cut with an ellipsis.
func (d *pdfDoc) fitted(s string, w float64) (string, float64) {
	s = d.font.clean(s, false)
	size := d.size
	for d.width(s) > w && size > 6 {
		size -= 0.5
		d.p.SetFontSize(size)
	}
	if d.width(s) > w {
		rs := []rune(s)
		for len(rs) > 0 && d.width(string(rs)+"…") > w {
			rs = rs[:len(rs)-1]
		}
		s = string(rs) + "…"
	}
	d.p.SetFontSize(d.size)
	return s, size
}

// cell draws one line of text in a box, shrinking it to fit.
func (d *pdfDoc) cell(w, h float64, s, border, align string, fill rgb, text rgb) {
	s, size := d.fitted(s, w-2*d.p.GetCellMargin())
	if fill != noFill {
		d.fill(fill)
	}
	d.color(text)
	d.p.SetFontSize(size)
	d.p.CellFormat(w, h, s, border, 0, align, fill != noFill, 0, "")
	d.p.SetFontSize(d.size)
	d.color(black)
}

// wrap breaks s into lines no wider than w: at spaces, around CJK characters, after _ and /
// and after the - of a long word, and inside a word only when the word alone is too wide. At
// most maxCellLines.
func (d *pdfDoc) wrap(s string, w float64) []string {
	s = d.font.clean(s, true)
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		lines = append(lines, d.wrapLine(para, w)...)
	}
	if len(lines) > maxCellLines {
		lines = lines[:maxCellLines]
		lines[maxCellLines-1] += "…"
	}
	return lines
}

func (d *pdfDoc) wrapLine(s string, w float64) []string {
	type atom struct {
		text  string
		space bool // preceded by a space
	}
	var atoms []atom
	var word []rune
	space := false
	flush := func() {
		if len(word) > 0 {
			atoms = append(atoms, atom{string(word), space})
			word, space = word[:0], false
		}
	}
	for _, r := range s {
		switch {
		case r == ' ':
			flush()
			space = true
		case sheettext.RuneWidth(r) == 2 || unicode.Is(unicode.Han, r):
			flush()
			atoms = append(atoms, atom{string(r), space})
			space = false
		default:
			word = append(word, r)
			// '-' only ends a long word (a serial range), so ids such as TY0001-01 stay whole.
			if r == '_' || r == '/' || r == '-' && len(word) > 9 {
				flush()
			}
		}
	}
	flush()
	if len(atoms) == 0 {
		return []string{""}
	}
	spaceW := d.width(" ")
	var lines []string
	var cur strings.Builder
	curW := 0.0
	push := func() {
		lines = append(lines, cur.String())
		cur.Reset()
		curW = 0
	}
	for _, a := range atoms {
		aw := d.width(a.text)
		sep := 0.0
		if a.space && cur.Len() > 0 {
			sep = spaceW
		}
		if cur.Len() > 0 && curW+sep+aw > w {
			push()
			sep = 0
		}
		if aw > w { // a word wider than the column: break it anywhere
			for _, r := range a.text {
				rw := d.width(string(r))
				if cur.Len() > 0 && curW+sep+rw > w {
					push()
					sep = 0
				}
				if sep > 0 {
					cur.WriteByte(' ')
					curW += sep
					sep = 0
				}
				cur.WriteRune(r)
				curW += rw
			}
			continue
		}
		if sep > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(a.text)
		curW += sep + aw
	}
	if cur.Len() > 0 {
		push()
	}
	return lines
}

// tcol is a table column.
type tcol struct {
	w     float64
	align string // L, C, R
}

// tcell is one cell of a table row.
type tcell struct {
	text  string
	color rgb // text color; zero value is black
	fill  rgb // noFill or zero value: the row's fill
}

// tableRow draws a row of wrapped cells, all as high as the tallest, on a new page (after
// redrawing the header with head) when it does not fit on this one.
func (d *pdfDoc) tableRow(cols []tcol, cells []tcell, lineH float64, fill rgb, head func()) {
	const padV = 1.0
	wrapped := make([][]string, len(cols))
	n := 1
	for i, c := range cols {
		wrapped[i] = d.wrap(cells[i].text, c.w-2*d.p.GetCellMargin())
		n = max(n, len(wrapped[i]))
	}
	h := float64(n)*lineH + 2*padV
	if d.ensure(h) && head != nil {
		head()
	}
	x, y := d.p.GetX(), d.p.GetY()
	for i, c := range cols {
		f := fill
		if cells[i].fill != (rgb{}) {
			f = cells[i].fill
		}
		style := "D"
		if f != noFill {
			d.fill(f)
			style = "FD"
		}
		d.p.Rect(x, y, c.w, h, style)
		d.color(cells[i].color)
		top := y + (h-float64(len(wrapped[i]))*lineH)/2
		for j, line := range wrapped[i] {
			d.p.SetXY(x, top+float64(j)*lineH)
			d.p.CellFormat(c.w, lineH, line, "", 0, c.align, false, 0, "")
		}
		x += c.w
	}
	d.color(black)
	d.p.SetXY(marginX, y+h)
}

// sectionTitle starts a section, keeping at least keep mm of it on the same page.
func (d *pdfDoc) sectionTitle(title, right string, keep float64) {
	d.p.Ln(3)
	d.ensure(8 + keep)
	d.setFont(11)
	d.p.SetX(marginX)
	d.p.CellFormat(contentW/2, 7, d.font.clean(title, false), "", 0, "L", false, 0, "")
	d.setFont(8)
	d.color(gray)
	d.p.CellFormat(contentW/2, 7, d.font.clean(right, false), "", 1, "R", false, 0, "")
	d.color(black)
	d.p.SetX(marginX)
}

// pageHeader draws, from page 2 on, a running head.
func (d *pdfDoc) pageHeader() {
	p, l, c := d.p, d.l, d.v.info
	if saved := d.size; saved > 0 {
		defer d.setFont(saved) // fpdf restores the page's font after the header; stay in step
	}
	if p.PageNo() > 1 {
		d.setFont(8)
		d.color(gray)
		p.SetXY(marginX, 6)
		p.CellFormat(contentW*0.7, 5, d.font.clean(l.title+" · "+headerLine(c, d.r.ix.res.BizDate()), false), "", 0, "L", false, 0, "")
		status := l.complete
		if c.Incomplete {
			status = l.incomplete
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
	if c.Incomplete {
		p.SetAlpha(0.16, "Normal")
		d.setFont(66)
		d.color(red)
		text := d.font.clean(l.incomplete, false)
		w := d.width(text)
		p.TransformBegin()
		p.TransformRotate(55, pageW/2, pageH/2)
		p.Text(pageW/2-w/2, pageH/2+8, text)
		p.TransformEnd()
		p.SetAlpha(1, "Normal")
	}
	p.Line(marginX, pageH-13, pageW-marginX, pageH-13)
	d.setFont(8)
	d.color(gray)
	p.SetXY(marginX, pageH-12)
	left := c.City + " · " + c.Outlet + " · " + c.Counter
	if d.r.opts.RunID != "" {
		left += " · " + d.r.opts.RunID
	}
	p.CellFormat(contentW*0.6, 5, d.font.clean(left, false), "", 0, "L", false, 0, "")
	// The date leads the page number: pdftotext keeps the spaces of "第 1 页 / 共 2 页" only
	// when its line also has a word longer than one character.
	right := d.r.ix.res.BizDate() + " · " + fmt.Sprintf(l.footer, p.PageNo())
	p.CellFormat(contentW*0.4, 5, d.font.clean(right, false), "", 0, "R", false, 0, "")
	d.color(black)
	if size > 0 {
		d.setFont(size)
	}
}

// first draws the title, the header block and, for an incomplete counter, the banner.
func (d *pdfDoc) first() {
	p, l, c, r := d.p, d.l, d.v.info, d.r
	d.setFont(17)
	p.SetXY(marginX, marginTop)
	p.CellFormat(contentW, 10, d.font.clean(l.title, false), "", 1, "C", false, 0, "")
	p.Ln(2)

	status, sFill, sText := l.complete, okFill, green
	if c.Incomplete {
		status, sFill, sText = l.incomplete, red, white
	}
	info := [][4]string{
		{l.city, c.City, l.outlet, c.Outlet},
		{l.counter, c.Counter, l.date, r.ix.res.BizDate()},
		{l.runID, r.opts.RunID, l.generated, formatTime(r.opts.GeneratedAt)},
		{l.source, r.opts.Source, l.status, status},
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

	if !c.Incomplete {
		return
	}
	p.Ln(3)
	d.setFont(22)
	d.fill(red)
	d.color(white)
	p.SetX(marginX)
	p.CellFormat(contentW, 15, d.font.clean(l.incomplete, false), "", 1, "C", true, 0, "")
	d.setFont(9.5)
	lines := d.wrap(l.incompleteNote, contentW-4)
	for _, why := range c.Why {
		for i, line := range d.wrap(why, contentW-8) {
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
		p.CellFormat(contentW, h, line, "", 1, "L", true, 0, "")
	}
	d.color(black)
}

// moneyCell is a right-aligned figure, red when negative.
func moneyCell(v int64) tcell {
	c := tcell{text: formatFen(v)}
	if v < 0 {
		c.color = red
	}
	return c
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
	d.sectionTitle(l.revenue, l.unit, 2*rowH+3*rowH)
	head := func() {
		d.setFont(8)
		p.SetX(marginX)
		hc := []tcol{{catW, "C"}, {itemW, "C"}}
		cells := []tcell{{text: l.category}, {text: l.item}}
		for _, m := range ix.methods {
			hc = append(hc, tcol{mw, "C"})
			cells = append(cells, tcell{text: l.payMethodName(m)})
		}
		hc = append(hc, tcol{mw, "C"})
		cells = append(cells, tcell{text: l.total})
		d.tableRow(hc, cells, 4, headFill, nil)
		d.setFont(size)
	}
	head()
	kinds := []struct {
		name string
		g    [][]int64
	}{{l.gross, v.gross}, {l.reversed, v.reversed}, {l.net, v.net}}
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
	block(l.total, sumFill,
		func(k, m int) int64 { return sumCol(kinds[k].g, m) },
		func(k int) int64 { return sumAll(kinds[k].g) })
}

// deposits draws the deposit check: expected, deposited and variance per pay method.
func (d *pdfDoc) deposits() {
	l, ix, v := d.l, d.r.ix, d.v
	cols := []tcol{{42, "L"}, {36, "R"}, {36, "R"}, {36, "R"}, {36, "C"}}
	const lineH = 4.6
	d.sectionTitle(l.deposit, l.unit, 3*(lineH+2))
	head := func() {
		d.setFont(8)
		d.p.SetX(marginX)
		d.tableRow(cols, []tcell{{text: l.payMethod}, {text: l.expected}, {text: l.deposited}, {text: l.variance}, {text: l.result}}, 4, headFill, nil)
		d.setFont(8.5)
	}
	head()
	var exp, dep int64
	for mi, m := range ix.methods {
		vc, res := moneyCell(v.variance[mi]), tcell{text: l.balanced}
		switch {
		case v.variance[mi] < 0:
			vc.fill, vc.color = pinkFill, darkRed
			res = tcell{text: l.short, color: darkRed, fill: pinkFill}
		case v.variance[mi] > 0:
			res = tcell{text: l.over}
		}
		d.p.SetX(marginX)
		d.tableRow(cols, []tcell{{text: l.payMethodName(m)}, moneyCell(v.expected[mi]), moneyCell(v.deposited[mi]), vc, res}, lineH, noFill, head)
		exp += v.expected[mi]
		dep += v.deposited[mi]
	}
	d.p.SetX(marginX)
	d.tableRow(cols, []tcell{{text: l.total}, moneyCell(exp), moneyCell(dep), {}, {}}, lineH, sumFill, head)
}

// exceptions draws the counter's exceptions, long text wrapped.
func (d *pdfDoc) exceptions() {
	l, v := d.l, d.v
	summary := l.noExceptions
	if n := len(v.exceptions); n > 0 {
		summary = fmt.Sprintf(l.exceptionCount, n, v.errors, v.warnings)
	}
	d.sectionTitle(l.exceptions, summary, 14)
	if len(v.exceptions) == 0 {
		return
	}
	d.setFont(7.5)
	sevW := 13.0
	for _, s := range []string{l.severity, l.sevError, l.sevWarning} {
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
	const codeW, amountW = 45.0, 19.0
	cols := []tcol{{sevW, "C"}, {codeW, "L"}, {whereW, "L"}, {amountW, "R"}, {contentW - sevW - codeW - whereW - amountW - sourceW, "L"}, {sourceW, "L"}}
	head := func() {
		d.setFont(7.5)
		d.p.SetX(marginX)
		d.tableRow(cols, []tcell{{text: l.severity}, {text: l.code + " / " + l.description}, {text: l.feedCol + " / " + l.txn},
			{text: l.amount}, {text: l.detail}, {text: l.sourceCol}}, 3.8, headFill, nil)
		d.setFont(7.5)
	}
	head()
	for _, e := range v.exceptions {
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
		d.p.SetX(marginX)
		d.tableRow(cols, []tcell{sev, {text: string(e.Code) + "\n" + l.codeDescription(e.Code)}, {text: where}, amount,
			{text: e.Detail}, {text: e.Source}}, 3.5, noFill, head)
	}
}

// signoff draws the sign-off block, whole on one page.
func (d *pdfDoc) signoff() {
	p, l := d.p, d.l
	const blockH = 8 + 3 + 6 + 18
	p.Ln(3)
	d.ensure(blockH + 3)
	d.sectionTitle(l.signoff, "", blockH-8)
	d.setFont(8.5)
	d.color(gray)
	p.SetX(marginX)
	p.CellFormat(contentW, 5, d.font.clean(l.signNote, false), "", 1, "L", false, 0, "")
	d.color(black)
	p.Ln(10)
	y := p.GetY()
	d.setFont(11)
	p.SetDrawColor(0, 0, 0)
	items := []struct {
		label string
		w     float64
	}{{l.clerk, 66}, {l.reviewer, 66}, {l.signDate, 54}}
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
