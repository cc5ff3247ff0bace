package report

import (
	"strings"
	"unicode"

	"settle/internal/sheettext"
)

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
	itemFill = rgb{246, 248, 252} // an item's explanation under its exception
	noFill   = rgb{-1, -1, -1}
)

func (d *pdfDoc) setFont(size float64) {
	d.size = size
	d.p.SetFont(fontFamily, "", size)
}

func (d *pdfDoc) color(c rgb) { d.p.SetTextColor(c.r, c.g, c.b) }

func (d *pdfDoc) fill(c rgb) { d.p.SetFillColor(c.r, c.g, c.b) }

// width of s at the current size.
func (d *pdfDoc) width(s string) float64 { return d.p.GetStringWidth(s) }

// cw is the width between the margins.
func (d *pdfDoc) cw() float64 {
	if d.pw == 0 {
		return contentW
	}
	return d.pw - 2*marginX
}

// bottom is where content ends on a page; the footer sits below.
func (d *pdfDoc) bottom() float64 {
	if d.ph == 0 {
		return bodyBottom
	}
	return d.ph - (pageH - bodyBottom)
}

// ensure starts a new page unless h mm still fit on this one; it reports whether it did.
func (d *pdfDoc) ensure(h float64) bool {
	if d.p.GetY()+h <= d.bottom() {
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
func (d *pdfDoc) wrap(s string, w float64) []string { return d.wrapClean(d.font.clean(s, true), w) }

// fitsLine reports whether para (no newline) is one line that fits w as it is, the line
// wrapLine would return: most cells are a figure or a name that fits, and without a space that
// is found without taking it apart (the margin keeps wrapLine's sum of the parts' widths from
// deciding otherwise by a rounding). wrap and rowLines both ask it.
func (d *pdfDoc) fitsLine(para string, w float64) bool {
	return !strings.Contains(para, " ") && d.width(para) < w-0.01
}

// wrapClean is wrap of s already cleaned (clean(s, true)).
func (d *pdfDoc) wrapClean(s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		if d.fitsLine(para, w) {
			lines = append(lines, para)
			continue
		}
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
	wrapped, h := d.rowLines(cols, cells, lineH)
	d.drawRow(cols, cells, wrapped, h, lineH, fill, head)
}

// drawRow is tableRow with the row's lines and height as rowLines gives them (a header row
// drawn on every page is wrapped once).
func (d *pdfDoc) drawRow(cols []tcol, cells []tcell, wrapped [][]string, h, lineH float64, fill rgb, head func()) {
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

// rowLines wraps the cells of a table row and returns the row's height.
func (d *pdfDoc) rowLines(cols []tcol, cells []tcell, lineH float64) ([][]string, float64) {
	const padV = 1.0
	wrapped := make([][]string, len(cols))
	// Most cells are one line (a figure, an id): their lines share one slice, found as wrap
	// finds them (fitsLine), without its allocations (a city roll-up draws ~40,000 cells).
	one := make([]string, len(cols))
	n := 1
	for i, c := range cols {
		w := c.w - 2*d.p.GetCellMargin()
		s := d.font.clean(cells[i].text, true)
		if !strings.Contains(s, "\n") && d.fitsLine(s, w) {
			one[i] = s
			wrapped[i] = one[i : i+1 : i+1]
			continue
		}
		wrapped[i] = d.wrapClean(s, w)
		n = max(n, len(wrapped[i]))
	}
	return wrapped, float64(n)*lineH + 2*padV
}

// sectionTitle starts a section, keeping at least keep mm of it on the same page.
func (d *pdfDoc) sectionTitle(title, right string, keep float64) {
	d.p.Ln(3)
	d.ensure(8 + keep)
	d.setFont(11)
	d.p.SetX(marginX)
	d.p.CellFormat(d.cw()/2, 7, d.font.clean(title, false), "", 0, "L", false, 0, "")
	d.setFont(8)
	d.color(gray)
	d.p.CellFormat(d.cw()/2, 7, d.font.clean(right, false), "", 1, "R", false, 0, "")
	d.color(black)
	d.p.SetX(marginX)
}

// moneyCell is a right-aligned figure, red when negative.
func moneyCell(v int64) tcell {
	c := tcell{text: formatFen(v)}
	if v < 0 {
		c.color = red
	}
	return c
}
