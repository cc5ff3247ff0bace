package report

// A small PDF writer for the reports. fpdf set its UTF-8 font up afresh for every document
// (parse it, JSON-encode 65,536 widths, compress a 128 KiB glyph map, two new ~1 MB zlib
// writers: ~3.4 ms and ~3.5 MB of garbage whatever the document's size, 36% of a full run)
// and spent ~15 µs on each cell. The reports only need text in cells, filled and ruled boxes,
// lines, a faint turned watermark and a running head and foot; they are drawn here with the
// run's cut of the face (pdfFont): a document embeds the glyphs it drew, cut and compressed
// once per set of glyphs and shared by every document drawing the same ones. The layout code
// calls the same few methods, with fpdf's names and coordinates (mm from the page's top
// left), that it called on fpdf.

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

const pdfK = 72 / 25.4 // points per mm

// cellMargin is the space kept between a cell's edge and its text, in mm (fpdf's default).
const cellMargin = 1.0

// liteDoc is a PDF being drawn.
type liteDoc struct {
	font              *pdfFont
	cut               bool   // embed only the glyphs drawn (pdfFont.cutTo), not the whole font
	used              []bool // glyph id → drawn
	pages             []*bytes.Buffer
	cur               *bytes.Buffer
	w, h              float64 // the page, mm
	x, y              float64
	lMargin, tMargin  float64
	size              float64 // pt
	text, fill, draw  [3]int
	lineWidth         float64
	nonStroke         [3]int // the fill and text colour in effect on the page, when inEffect
	inEffect          bool
	alphas            []float64 // the opacities used: graphics states /GS0, /GS1, …
	header, footer    func()
	pageNo            int // the page a footer is being drawn for
	total             int
	num               []byte
	title, subject    string
	created, modified time.Time
}

// newLiteDoc starts a document of w×h mm pages drawn with font.
func newLiteDoc(font *pdfFont, w, h, margin float64) *liteDoc {
	return &liteDoc{font: font, used: make([]bool, len(font.adv)), w: w, h: h, lMargin: margin, tMargin: margin, lineWidth: 0.2}
}

// f writes v to two decimals (trailing zeros left out) and a space.
func (d *liteDoc) f(v float64) {
	d.num = appendF(d.num[:0], v)
	d.cur.Write(d.num)
}

// appendF appends v to two decimals (trailing zeros left out) and a space. The operators
// drawing a cell are put together in liteDoc.num and written at once: a Write per number had
// been a tenth of a city roll-up's drawing.
func appendF(b []byte, v float64) []byte {
	n := int64(math.Round(v * 100))
	if n < 0 {
		b, n = append(b, '-'), -n
	}
	b = strconv.AppendInt(b, n/100, 10)
	if c := n % 100; c != 0 {
		b = append(b, '.', byte('0'+c/10))
		if c%10 != 0 {
			b = append(b, byte('0'+c%10))
		}
	}
	return append(b, ' ')
}

// rgb sets a colour: op "rg" for filling and text, "RG" for lines. A fill or text colour
// already in effect is not set again.
func (d *liteDoc) rgb(c [3]int, op string) {
	if op == "rg" {
		if d.inEffect && c == d.nonStroke {
			return
		}
		d.nonStroke, d.inEffect = c, true
	}
	b := d.num[:0]
	for _, v := range c {
		b = appendF(b, float64(v)/255)
	}
	b = append(append(b, op...), '\n')
	d.num = b
	d.cur.Write(b)
}

// AddPage starts a page and draws the running head.
func (d *liteDoc) AddPage() {
	// A page is sized as the one before it (a roll-up's pages of table rows are alike,
	// ~170 KB of content each): grown from 16 KB by doubling, the city roll-up's pages had
	// copied and dropped ~1 MB each, half of what the document allocated.
	size := 16 << 10
	if n := len(d.pages); n > 0 {
		size = max(size, d.pages[n-1].Len()+d.pages[n-1].Len()/8)
	}
	d.cur = &bytes.Buffer{}
	d.cur.Grow(size)
	d.pages = append(d.pages, d.cur)
	d.lineState()
	d.x, d.y = d.lMargin, d.tMargin
	if d.header != nil {
		d.header()
	}
}

// lineState sets the line width and colour in the page's content.
func (d *liteDoc) lineState() {
	d.inEffect = false
	d.f(d.lineWidth * pdfK)
	d.cur.WriteString("w\n")
	d.rgb(d.draw, "RG")
}

func (d *liteDoc) PageNo() int {
	if d.pageNo > 0 {
		return d.pageNo
	}
	return len(d.pages)
}

func (d *liteDoc) SetFont(_, _ string, size float64) { d.size = size }
func (d *liteDoc) SetFontSize(size float64)          { d.size = size }
func (d *liteDoc) SetTextColor(r, g, b int)          { d.text = [3]int{r, g, b} }
func (d *liteDoc) SetFillColor(r, g, b int)          { d.fill = [3]int{r, g, b} }
func (d *liteDoc) SetXY(x, y float64)                { d.x, d.y = x, y }
func (d *liteDoc) SetX(x float64)                    { d.x = x }
func (d *liteDoc) GetX() float64                     { return d.x }
func (d *liteDoc) GetY() float64                     { return d.y }
func (d *liteDoc) Ln(h float64)                      { d.x, d.y = d.lMargin, d.y+h }
func (d *liteDoc) GetCellMargin() float64            { return cellMargin }

// GetStringWidth is s's width at the current size, in mm.
func (d *liteDoc) GetStringWidth(s string) float64 {
	n := 0
	for _, r := range s {
		if r < 0x10000 {
			n += int(d.font.adv[d.font.gid[r]])
		}
	}
	return float64(n) * d.size / 1000 / pdfK
}

// SetDrawColor sets the colour of lines and borders.
func (d *liteDoc) SetDrawColor(r, g, b int) {
	d.draw = [3]int{r, g, b}
	if d.cur != nil {
		d.rgb(d.draw, "RG")
	}
}

// SetLineWidth sets the width of lines and borders, in mm.
func (d *liteDoc) SetLineWidth(w float64) {
	d.lineWidth = w
	if d.cur != nil {
		d.f(w * pdfK)
		d.cur.WriteString("w\n")
	}
}

// SetAlpha sets the opacity of what is drawn next (1: opaque).
func (d *liteDoc) SetAlpha(alpha float64, _ string) {
	i := -1
	for j, a := range d.alphas {
		if a == alpha {
			i = j
		}
	}
	if i < 0 {
		if len(d.alphas) == 0 && alpha != 1 {
			d.alphas = append(d.alphas, 1) // /GS0 is opaque: what the page starts with
		}
		i = len(d.alphas)
		d.alphas = append(d.alphas, alpha)
	}
	fmt.Fprintf(d.cur, "/GS%d gs\n", i)
}

// TransformBegin saves the graphics state; TransformEnd restores it.
func (d *liteDoc) TransformBegin() { d.cur.WriteString("q\n") }
func (d *liteDoc) TransformEnd() {
	d.cur.WriteString("Q\n")
	d.inEffect = false // the colour set inside is undone
}

// TransformRotate turns what is drawn next by angle degrees, counter-clockwise, about (x, y).
func (d *liteDoc) TransformRotate(angle, x, y float64) {
	s, c := math.Sincos(angle * math.Pi / 180)
	cx, cy := x*pdfK, (d.h-y)*pdfK
	for _, v := range []float64{c, s, -s, c, cx - c*cx + s*cy, cy - s*cx - c*cy} {
		d.cur.WriteString(strconv.FormatFloat(v, 'f', 5, 64))
		d.cur.WriteByte(' ')
	}
	d.cur.WriteString("cm\n")
}

// Line draws a line in the draw colour.
func (d *liteDoc) Line(x1, y1, x2, y2 float64) {
	d.f(x1 * pdfK)
	d.f((d.h - y1) * pdfK)
	d.cur.WriteString("m ")
	d.f(x2 * pdfK)
	d.f((d.h - y2) * pdfK)
	d.cur.WriteString("l S\n")
}

// Rect draws a w×h box at (x, y): ruled (style "D"), filled ("F") or both ("FD").
func (d *liteDoc) Rect(x, y, w, h float64, style string) {
	fill := strings.Contains(style, "F")
	if fill {
		d.rgb(d.fill, "rg")
	}
	d.box(x, y, w, h, fill, style != "F")
}

func (d *liteDoc) box(x, y, w, h float64, fill, stroke bool) {
	b := appendF(d.num[:0], x*pdfK)
	b = appendF(b, (d.h-y-h)*pdfK)
	b = appendF(b, w*pdfK)
	b = appendF(b, h*pdfK)
	switch {
	case fill && stroke:
		b = append(b, "re B\n"...)
	case fill:
		b = append(b, "re f\n"...)
	default:
		b = append(b, "re S\n"...)
	}
	d.num = b
	d.cur.Write(b)
}

// CellFormat draws txt in a w×h cell at the current position as fpdf does: filled with the
// fill colour when fill, boxed when border is "1", aligned L, R or C with a 1 mm margin;
// then moves right (ln 0) or to the next line (ln 1).
func (d *liteDoc) CellFormat(w, h float64, txt, border string, ln int, align string, fill bool, _ int, _ string) {
	if fill || border == "1" {
		if fill {
			d.rgb(d.fill, "rg")
		}
		d.box(d.x, d.y, w, h, fill, border == "1")
	}
	if txt != "" {
		if d.total > 0 {
			txt = strings.ReplaceAll(txt, "{nb}", strconv.Itoa(d.total))
		}
		dx := cellMargin
		switch align {
		case "R":
			dx = w - cellMargin - d.GetStringWidth(txt)
		case "C":
			dx = (w - d.GetStringWidth(txt)) / 2
		}
		d.Text(d.x+dx, d.y+h/2+0.3*d.size/pdfK, txt)
	}
	if ln == 1 {
		d.x, d.y = d.lMargin, d.y+h
	} else {
		d.x += w
	}
}

// Text draws txt in the text colour with its baseline's left end at (x, y).
func (d *liteDoc) Text(x, y float64, txt string) {
	d.rgb(d.text, "rg")
	b := append(d.num[:0], "BT /F1 "...)
	b = appendF(b, d.size)
	b = append(b, "Tf "...)
	b = appendF(b, x*pdfK)
	b = appendF(b, (d.h-y)*pdfK)
	b = append(b, "Td <"...)
	for _, r := range txt {
		g := uint16(0)
		if r < 0x10000 {
			g = d.font.gid[r]
		}
		d.used[g] = true
		const digits = "0123456789ABCDEF"
		b = append(b, digits[g>>12], digits[g>>8&15], digits[g>>4&15], digits[g&15])
	}
	b = append(b, "> Tj ET\n"...)
	d.num = b
	d.cur.Write(b)
}

func hex4(g uint16) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[g>>12], digits[g>>8&15], digits[g>>4&15], digits[g&15]})
}

// Output draws the footer on every page (PageNo and {nb} then say which page of how many)
// and writes the document.
func (d *liteDoc) Output(w io.Writer) error {
	d.total = len(d.pages)
	for i, pg := range d.pages {
		d.cur, d.pageNo = pg, i+1
		if d.footer != nil {
			d.lineState()
			d.footer()
		}
	}
	f := d.font.whole()
	if d.cut {
		f = d.font.cutTo(d.used)
	}
	var out bytes.Buffer
	var offs []int
	obj := func() int {
		offs = append(offs, out.Len())
		n := len(offs)
		fmt.Fprintf(&out, "%d 0 obj\n", n)
		return n
	}
	stream := func(dict string, b []byte) {
		obj()
		fmt.Fprintf(&out, "<<%s/Length %d>>\nstream\n", dict, len(b))
		out.Write(b)
		out.WriteString("\nendstream\nendobj\n")
	}
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	// 1 catalog, 2 pages, 3 info, 4–8 the font, 9 the graphics states, then a page and its
	// content per page.
	const firstPage = 10
	obj()
	out.WriteString("<</Type /Catalog /Pages 2 0 R>>\nendobj\n")
	obj()
	out.WriteString("<</Type /Pages /Kids [")
	for i := range d.pages {
		if i > 0 {
			out.WriteByte(' ')
		}
		fmt.Fprintf(&out, "%d 0 R", firstPage+2*i)
	}
	fmt.Fprintf(&out, "] /Count %d>>\nendobj\n", len(d.pages))
	obj()
	out.WriteString("<</Title ")
	out.WriteString(pdfText16(d.title))
	if d.subject != "" {
		out.WriteString(" /Subject ")
		out.WriteString(pdfText16(d.subject))
	}
	fmt.Fprintf(&out, " /Author (settle) /Creator (settle) /Producer (settle) /CreationDate (%s) /ModDate (%s)>>\nendobj\n",
		pdfDate(d.created), pdfDate(d.modified))
	obj() // 4
	fmt.Fprintf(&out, "<</Type /Font /Subtype /Type0 /BaseFont %s /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 8 0 R>>\nendobj\n", f.name)
	obj() // 5
	fmt.Fprintf(&out, "<</Type /Font /Subtype /CIDFontType2 /BaseFont %s /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> /FontDescriptor 6 0 R /CIDToGIDMap /Identity /W %s>>\nendobj\n", f.name, f.widths)
	obj() // 6
	ft := d.font
	fmt.Fprintf(&out, "<</Type /FontDescriptor /FontName %s /Flags 4 /FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 7 0 R>>\nendobj\n",
		f.name, ft.bbox[0], ft.bbox[1], ft.bbox[2], ft.bbox[3], ft.ascent, ft.descent, ft.ascent)
	stream(fmt.Sprintf("/Filter /FlateDecode /Length1 %d", f.rawLen), f.stream) // 7
	stream("/Filter /FlateDecode", f.toUni)                                     // 8
	obj()                                                                       // 9
	out.WriteString("<<")
	for i, a := range d.alphas {
		fmt.Fprintf(&out, "/GS%d <</Type /ExtGState /ca %.3f /CA %.3f /BM /Normal>> ", i, a, a)
	}
	out.WriteString(">>\nendobj\n")
	for i, pg := range d.pages {
		obj()
		fmt.Fprintf(&out, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources <</Font <</F1 4 0 R>> /ExtGState 9 0 R>> /Contents %d 0 R>>\nendobj\n",
			d.w*pdfK, d.h*pdfK, firstPage+2*i+1)
		stream("/Filter /FlateDecode", deflate(pg.Bytes()))
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<</Size %d /Root 1 0 R /Info 3 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	_, err := w.Write(out.Bytes())
	return err
}

// pdfDate is t as a PDF date, in UTC.
func pdfDate(t time.Time) string { return "D:" + t.UTC().Format("20060102150405") + "Z" }

// pdfText16 is s as a PDF text string: UTF-16BE with a byte order mark, in hex.
func pdfText16(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteString(hex4(u))
	}
	b.WriteByte('>')
	return b.String()
}
