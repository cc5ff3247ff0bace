package report

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"unicode/utf8"

	"settle/internal/i18n"
)

// The period PDF's page: A4 landscape.
const (
	ppW, ppH      = 297.0, 210.0
	ppMargin      = 12.0
	ppContentW    = ppW - 2*ppMargin
	ppBodyBottom  = ppH - 16.0
	ppRowH        = 6.0
	ppFontSize    = 8.5
	ppHeadingSize = 10.5
)

// periodPDF is a period PDF being drawn.
type periodPDF struct {
	p    *liteDoc
	d    *PeriodDoc
	font *pdfFont
	l    i18n.Lang
	size float64 // the font size in use, pt
}

// WritePeriodPDF writes d as an A4 landscape PDF with the Chinese font embedded (subset to
// d's characters): the title and header, then each table with its column headings repeated
// at the top of every page it runs onto, and "第 X 页 / 共 Y 页" in every footer.
func WritePeriodPDF(w io.Writer, d *PeriodDoc) (err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("pdf: panic: %v", e)
		}
	}()
	base, err := wqyFont()
	if err != nil {
		return err
	}
	font, err := periodFont(base, d.runes())
	if err != nil {
		return err
	}
	l := i18n.Zh
	if d.Lang == "en" {
		l = i18n.En
	}
	p := newLiteDoc(font, ppW, ppH, ppMargin)
	p.draw = [3]int{166, 166, 166}
	pd := &periodPDF{p: p, d: d, font: font, l: l}
	p.header, p.footer = pd.header, pd.footer
	p.title, p.created, p.modified = d.Title, d.Stamp, d.Stamp
	p.AddPage()
	pd.first()
	for i := range d.Tables {
		pd.table(&d.Tables[i])
	}
	return p.Output(w)
}

func (pd *periodPDF) setSize(size float64) { pd.p.SetFont(fontFamily, "", size); pd.size = size }

// periodFonts caches the font subsets of the period PDFs by their characters: the outlet
// reports of one period mostly share theirs (labels, digits, ids), and cutting the face is
// a good part of a small PDF's cost.
var periodFonts sync.Map // string(sorted runes) → *pdfFont

// periodFont is base cut to the characters rs (those base has).
func periodFont(base *ttfFont, rs []rune) (*pdfFont, error) {
	var runes []rune
	for _, r := range rs {
		if r < 0x10000 && base.has(r) {
			runes = append(runes, r)
		}
	}
	slices.Sort(runes)
	runes = slices.Compact(runes)
	key := string(runes)
	if f, ok := periodFonts.Load(key); ok {
		return f.(*pdfFont), nil
	}
	rf, err := newCut(base, runes)
	if err != nil {
		return nil, err
	}
	f, _ := periodFonts.LoadOrStore(key, rf.pdf)
	return f.(*pdfFont), nil
}

// header draws, from page 2 on, the report's title and header values as a running head.
func (pd *periodPDF) header() {
	p := pd.p
	if p.PageNo() == 1 {
		return
	}
	pd.setSize(8)
	p.SetTextColor(110, 110, 110)
	head := pd.d.Title
	for _, h := range pd.d.Header {
		head += " · " + h.Value
	}
	p.SetXY(ppMargin, 6)
	p.CellFormat(ppContentW, 5, pd.fit(head, ppContentW), "", 0, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)
	p.Line(ppMargin, 11.5, ppW-ppMargin, 11.5)
	p.SetXY(ppMargin, ppMargin+2)
}

// footer draws what the page belongs to and "第 X 页 / 共 Y 页".
func (pd *periodPDF) footer() {
	p := pd.p
	p.Line(ppMargin, ppH-13, ppW-ppMargin, ppH-13)
	pd.setSize(8)
	p.SetTextColor(110, 110, 110)
	p.SetXY(ppMargin, ppH-12)
	p.CellFormat(ppContentW*0.6, 5, pd.fit(pd.d.Footer, ppContentW*0.6), "", 0, "L", false, 0, "")
	right := pd.font.clean(fmt.Sprintf(pd.l.S(i18n.ReportFooter), p.PageNo()), false)
	if len(pd.d.Header) > 0 {
		// A word before the page number keeps pdftotext from squeezing its spaces out.
		right = pd.font.clean(pd.d.Header[0].Value, false) + " · " + right
	}
	p.CellFormat(ppContentW*0.4, 5, right, "", 0, "R", false, 0, "")
	p.SetTextColor(0, 0, 0)
}

// fit cleans s for the font and cuts it to width w (mm) with an ellipsis.
func (pd *periodPDF) fit(s string, w float64) string {
	s = pd.font.clean(s, false)
	// No glyph is wider than the font size (1 em); most cells are far from full.
	if float64(utf8.RuneCountInString(s))*pd.size*0.3528 <= w-1 || pd.p.GetStringWidth(s) <= w-1 {
		return s
	}
	// Cut once, rune by rune: measuring ever shorter prefixes was quadratic in long details.
	limit := w - 1 - pd.p.GetStringWidth("…")
	width := 0.0
	for i, r := range s {
		width += pd.p.GetStringWidth(string(r))
		if width > limit {
			return s[:i] + "…"
		}
	}
	return s
}

// first draws the title and the header fields.
func (pd *periodPDF) first() {
	p := pd.p
	pd.setSize(16)
	p.SetXY(ppMargin, ppMargin)
	p.CellFormat(ppContentW, 9, pd.fit(pd.d.Title, ppContentW), "", 1, "L", false, 0, "")
	pd.setSize(9)
	for _, h := range pd.d.Header {
		p.SetX(ppMargin)
		p.CellFormat(35, 5.5, pd.fit(h.Label, 35), "", 0, "L", false, 0, "")
		p.CellFormat(ppContentW-35, 5.5, pd.fit(h.Value, ppContentW-35), "", 1, "L", false, 0, "")
	}
	p.Ln(3)
}

// widths are the table's column widths in mm, in proportion to PeriodColumn.Width.
func (pd *periodPDF) widths(t *PeriodTable) []float64 {
	sum := 0.0
	for _, c := range t.Columns {
		sum += max(c.Width, 1)
	}
	out := make([]float64, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = ppContentW * max(c.Width, 1) / sum
	}
	return out
}

// table draws a titled table, breaking pages between rows and repeating the title and the
// column headings at the top of each new page.
func (pd *periodPDF) table(t *PeriodTable) {
	p := pd.p
	ws := pd.widths(t)
	heading := func() {
		pd.setSize(ppHeadingSize)
		p.SetX(ppMargin)
		p.CellFormat(ppContentW, 7, pd.fit(t.Title, ppContentW), "", 1, "L", false, 0, "")
		pd.setSize(ppFontSize)
		p.SetFillColor(217, 225, 242)
		p.SetX(ppMargin)
		for i, c := range t.Columns {
			align := "L"
			if c.Money || c.Count {
				align = "R"
			}
			p.CellFormat(ws[i], ppRowH, pd.fit(c.Label, ws[i]), "1", 0, align, true, 0, "")
		}
		p.Ln(ppRowH)
	}
	// Keep the heading with at least one row.
	if p.GetY()+7+2*ppRowH > ppBodyBottom {
		p.AddPage()
	}
	p.Ln(2)
	heading()
	row := func(r []PeriodCell, fill bool) {
		if p.GetY()+ppRowH > ppBodyBottom {
			p.AddPage()
			heading()
		}
		pd.setSize(ppFontSize)
		p.SetFillColor(242, 242, 242)
		p.SetX(ppMargin)
		for i, c := range t.Columns {
			var v PeriodCell
			if i < len(r) {
				v = r[i]
			}
			align := "L"
			if c.Money || c.Count {
				align = "R"
			}
			if v.Alert || (c.Money && v.N < 0) {
				p.SetTextColor(192, 0, 0)
			}
			p.CellFormat(ws[i], ppRowH, pd.fit(v.text(c), ws[i]), "", 0, align, fill, 0, "")
			if v.Alert || (c.Money && v.N < 0) {
				p.SetTextColor(0, 0, 0)
			}
		}
		// One rule under the row: a box around every cell was most of a long table's drawing.
		y := p.GetY() + ppRowH
		p.Line(ppMargin, y, ppMargin+ppContentW, y)
		p.Ln(ppRowH)
	}
	for _, r := range t.Rows {
		row(r, false)
	}
	if len(t.Rows) == 0 && t.Empty != "" {
		p.SetX(ppMargin)
		p.CellFormat(ppContentW, ppRowH, pd.fit(t.Empty, ppContentW), "1", 1, "L", false, 0, "")
	}
	if t.Total != nil {
		row(t.Total, true)
	}
	p.Ln(3)
}
