package report

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// pdfw writes the PDF reports. It draws what the report code asks for with the methods, units
// and geometry of fpdf (go-pdf/fpdf, which settle used before, and whose layout the reports
// keep to the hundredth of a point), but it is made for many small documents of one run:
//
//   - the run's font is parsed once (pdfFace), never once per document;
//   - text is written as glyph ids of that font (Identity-H, CIDToGIDMap /Identity), so a
//     document needs no 128 KB CID-to-glyph map;
//   - a document embeds the run's font with the outlines of the glyphs it does not use left
//     out (glyph ids stay), and the embedded program, its widths and its ToUnicode map are
//     built and compressed once per distinct set of glyphs and shared by every document that
//     uses that set (most counters' reports use the same glyphs).
//
// Only what the reports use is implemented: one font, cells, rectangles, lines, colors, one
// rotation, translucency, running heads and footers, the {nb} page-count alias. Coordinates
// are in mm from the top left, as in fpdf; the page is A4 portrait.
type pdfw struct {
	face *pdfFace

	k, w, h                             float64 // points per mm, page width and height in mm
	lMargin, tMargin, rMargin, cMargin  float64
	x, y, lasth                         float64
	page                                int
	pages                               []*bytes.Buffer
	fontOn                              bool // a font has been set on this page
	fontSizePt, fontSize                float64
	lineWidth                           float64
	drawColor, fillColor, textColor     string
	colorFlag                           bool
	inHeader, inFooter                  bool
	header, footer                      func()
	transformNest                       int
	alphas                              []string // ExtGState /ca values, GS1, GS2, …
	used                                []bool   // glyph ids drawn
	aliasNb                             string
	title, subject, author, creator     string
	created, modified                   time.Time
	closed                              bool
	buf                                 []byte // scratch for one operator line
}

// newPDFW starts a document drawn with face: A4 portrait, mm, fpdf's default margins, cell
// margin, line width and colors, 12 pt.
func newPDFW(face *pdfFace) *pdfw {
	p := &pdfw{face: face, k: 72 / 25.4}
	p.w, p.h = 595.28/p.k, 841.89/p.k
	margin := 28.35 / p.k
	p.lMargin, p.tMargin, p.rMargin, p.cMargin = margin, margin, margin, margin/10
	p.lineWidth = 0.567 / p.k
	p.fontSizePt = 12
	p.fontSize = 12 / p.k
	p.drawColor, p.fillColor, p.textColor = "0.000 G", "0.000 g", "0.000 g"
	p.used = make([]bool, len(face.widths))
	return p
}

// Document settings.

func (p *pdfw) AliasNbPages(alias string)                { p.aliasNb = alias }
func (p *pdfw) SetTitle(s string)                        { p.title = s }
func (p *pdfw) SetSubject(s string)                      { p.subject = s }
func (p *pdfw) SetCreator(s string)                      { p.creator = s }
func (p *pdfw) SetAuthor(s string)                       { p.author = s }
func (p *pdfw) SetCreationDate(t time.Time)              { p.created = t }
func (p *pdfw) SetModificationDate(t time.Time)          { p.modified = t }
func (p *pdfw) SetHeaderFunc(f func())                   { p.header = f }
func (p *pdfw) SetFooterFunc(f func())                   { p.footer = f }
func (p *pdfw) SetMargins(left, top, right float64)      { p.lMargin, p.tMargin, p.rMargin = left, top, right }
func (p *pdfw) GetCellMargin() float64                   { return p.cMargin }
func (p *pdfw) GetX() float64                            { return p.x }
func (p *pdfw) GetY() float64                            { return p.y }
func (p *pdfw) PageNo() int                              { return p.page }
func (p *pdfw) Error() error                             { return nil }
func (p *pdfw) SetXY(x, y float64)                       { p.SetY(y); p.SetX(x) }
func (p *pdfw) TransformBegin()                          { p.transformNest++; p.out("q") }
func (p *pdfw) TransformEnd()                            { p.transformNest--; p.out("Q") }
func (p *pdfw) SetAutoPageBreak(auto bool, margin float64) {} // every break is the caller's

func (p *pdfw) SetX(x float64) {
	if x >= 0 {
		p.x = x
	} else {
		p.x = p.w + x
	}
}

func (p *pdfw) SetY(y float64) {
	p.x = p.lMargin
	if y >= 0 {
		p.y = y
	} else {
		p.y = p.h + y
	}
}

// Ln moves to the start of the next line, h below (the last cell's height when h < 0).
func (p *pdfw) Ln(h float64) {
	p.x = p.lMargin
	if h < 0 {
		p.y += p.lasth
	} else {
		p.y += h
	}
}

func (p *pdfw) SetLineWidth(w float64) {
	p.lineWidth = w
	if p.page > 0 {
		p.buf = appendF(p.buf[:0], w*p.k, 2)
		p.outb(append(p.buf, " w"...))
	}
}

func colorOp(r, g, b int, gray, full string) string {
	if r == g && g == b {
		return strconv.FormatFloat(float64(r)/255, 'f', 3, 64) + " " + gray
	}
	return strconv.FormatFloat(float64(r)/255, 'f', 3, 64) + " " + strconv.FormatFloat(float64(g)/255, 'f', 3, 64) +
		" " + strconv.FormatFloat(float64(b)/255, 'f', 3, 64) + " " + full
}

func (p *pdfw) SetDrawColor(r, g, b int) {
	p.drawColor = colorOp(r, g, b, "G", "RG")
	if p.page > 0 {
		p.out(p.drawColor)
	}
}

func (p *pdfw) SetFillColor(r, g, b int) {
	p.fillColor = colorOp(r, g, b, "g", "rg")
	p.colorFlag = p.fillColor != p.textColor
	if p.page > 0 {
		p.out(p.fillColor)
	}
}

func (p *pdfw) SetTextColor(r, g, b int) {
	p.textColor = colorOp(r, g, b, "g", "rg")
	p.colorFlag = p.fillColor != p.textColor
}

// SetFont selects the face (the only one) at size pt.
func (p *pdfw) SetFont(family, style string, size float64) {
	if p.fontOn && size == p.fontSizePt {
		return
	}
	p.fontOn = true
	p.setSize(size)
}

func (p *pdfw) SetFontSize(size float64) { p.setSize(size) }

func (p *pdfw) setSize(size float64) {
	p.fontSizePt, p.fontSize = size, size/p.k
	if p.page > 0 {
		p.buf = append(p.buf[:0], "BT /F1 "...)
		p.buf = appendF(p.buf, size, 2)
		p.outb(append(p.buf, " Tf ET"...))
	}
}

// SetAlpha sets the opacity of what is drawn next (blend mode Normal).
func (p *pdfw) SetAlpha(alpha float64, blend string) {
	a := strconv.FormatFloat(alpha, 'f', 3, 64)
	n := 0
	for i, s := range p.alphas {
		if s == a {
			n = i + 1
		}
	}
	if n == 0 {
		p.alphas = append(p.alphas, a)
		n = len(p.alphas)
	}
	p.out("/GS" + strconv.Itoa(n) + " gs")
}

// TransformRotate rotates what follows by angle degrees (counter-clockwise) around (x, y).
func (p *pdfw) TransformRotate(angle, x, y float64) {
	y = (p.h - y) * p.k
	x *= p.k
	angle = angle * math.Pi / 180
	a, b := math.Cos(angle), math.Sin(angle)
	c, d := -b, a
	e, f := x+b*y-a*x, y-a*y-b*x
	buf := p.buf[:0]
	for i, v := range []float64{a, b, c, d, e, f} {
		if i > 0 {
			buf = append(buf, ' ')
		}
		buf = appendF(buf, v, 5)
	}
	p.buf = buf
	p.outb(append(buf, " cm"...))
}

// GetStringWidth is the width of s in mm at the current size.
func (p *pdfw) GetStringWidth(s string) float64 {
	w := 0
	for _, r := range s {
		w += p.face.runeWidth(r)
	}
	return float64(w) * p.fontSize / 1000
}

func (p *pdfw) Rect(x, y, w, h float64, style string) {
	op := "S"
	switch style {
	case "F", "f":
		op = "f"
	case "FD", "DF":
		op = "B"
	}
	buf := appendF(p.buf[:0], x*p.k, 2)
	buf = append(buf, ' ')
	buf = appendF(buf, (p.h-y)*p.k, 2)
	buf = append(buf, ' ')
	buf = appendF(buf, w*p.k, 2)
	buf = append(buf, ' ')
	buf = appendF(buf, -h*p.k, 2)
	buf = append(buf, " re "...)
	p.buf = append(buf, op...)
	p.outb(p.buf)
}

func (p *pdfw) Line(x1, y1, x2, y2 float64) {
	buf := appendF(p.buf[:0], x1*p.k, 2)
	buf = append(buf, ' ')
	buf = appendF(buf, (p.h-y1)*p.k, 2)
	buf = append(buf, " m "...)
	buf = appendF(buf, x2*p.k, 2)
	buf = append(buf, ' ')
	buf = appendF(buf, (p.h-y2)*p.k, 2)
	p.buf = append(buf, " l S"...)
	p.outb(p.buf)
}

// Text draws s with its baseline starting at (x, y).
func (p *pdfw) Text(x, y float64, s string) {
	buf := p.buf[:0]
	if p.colorFlag {
		buf = append(buf, "q "...)
		buf = append(buf, p.textColor...)
		buf = append(buf, ' ')
	}
	buf = append(buf, "BT "...)
	buf = appendF(buf, x*p.k, 2)
	buf = append(buf, ' ')
	buf = appendF(buf, (p.h-y)*p.k, 2)
	buf = append(buf, " Td "...)
	buf = p.appendText(buf, s)
	buf = append(buf, " Tj ET"...)
	if p.colorFlag {
		buf = append(buf, " Q"...)
	}
	p.buf = buf
	p.outb(buf)
}

// CellFormat draws a cell of w × h mm at the current position: fill and/or border ("1", or
// any of "LTRB"), and s aligned L, C or R (vertically centred), then moves right (ln 0), to
// the next line (1) or below (2).
func (p *pdfw) CellFormat(w, h float64, s, border string, ln int, align string, fill bool, link int, linkStr string) {
	k := p.k
	if w == 0 {
		w = p.w - p.rMargin - p.x
	}
	buf := p.buf[:0]
	if h > 0 && (fill || border == "1") {
		op := "S"
		if fill {
			op = "f"
			if border == "1" {
				op = "B"
			}
		}
		buf = appendF(buf, p.x*k, 2)
		buf = append(buf, ' ')
		buf = appendF(buf, (p.h-p.y)*k, 2)
		buf = append(buf, ' ')
		buf = appendF(buf, w*k, 2)
		buf = append(buf, ' ')
		buf = appendF(buf, -h*k, 2)
		buf = append(buf, " re "...)
		buf = append(buf, op...)
		buf = append(buf, ' ')
	}
	if border != "" && border != "1" {
		left, top, right, bottom := p.x*k, (p.h-p.y)*k, (p.x+w)*k, (p.h-(p.y+h))*k
		seg := func(x1, y1, x2, y2 float64) {
			buf = appendF(buf, x1, 2)
			buf = append(buf, ' ')
			buf = appendF(buf, y1, 2)
			buf = append(buf, " m "...)
			buf = appendF(buf, x2, 2)
			buf = append(buf, ' ')
			buf = appendF(buf, y2, 2)
			buf = append(buf, " l S "...)
		}
		if strings.Contains(border, "L") {
			seg(left, top, left, bottom)
		}
		if strings.Contains(border, "T") {
			seg(left, top, right, top)
		}
		if strings.Contains(border, "R") {
			seg(right, top, right, bottom)
		}
		if strings.Contains(border, "B") {
			seg(left, bottom, right, bottom)
		}
	}
	if s != "" {
		var dx float64
		switch {
		case strings.Contains(align, "R"):
			dx = w - p.cMargin - p.GetStringWidth(s)
		case strings.Contains(align, "C"):
			dx = (w - p.GetStringWidth(s)) / 2
		default:
			dx = p.cMargin
		}
		if p.colorFlag {
			buf = append(buf, "q "...)
			buf = append(buf, p.textColor...)
			buf = append(buf, ' ')
		}
		buf = append(buf, "BT "...)
		buf = appendF(buf, (p.x+dx)*k, 2)
		buf = append(buf, ' ')
		buf = appendF(buf, (p.h-(p.y+.5*h+.3*p.fontSize))*k, 2)
		buf = append(buf, " Td "...)
		buf = p.appendText(buf, s)
		buf = append(buf, " Tj ET"...)
		if p.colorFlag {
			buf = append(buf, " Q"...)
		}
	}
	p.buf = buf
	if len(buf) > 0 {
		if buf[len(buf)-1] == ' ' {
			buf = buf[:len(buf)-1]
		}
		p.outb(buf)
	}
	p.lasth = h
	if ln > 0 {
		p.y += h
		if ln == 1 {
			p.x = p.lMargin
		}
	} else {
		p.x += w
	}
}

// pdfNbMark stands, inside a hex string, for the page count until the document is written.
const pdfNbMark = "\x00nb\x00"

// appendText appends s as a hex string of glyph ids, marking them used.
func (p *pdfw) appendText(buf []byte, s string) []byte {
	buf = append(buf, '<')
	for len(s) > 0 {
		if p.aliasNb != "" && strings.HasPrefix(s, p.aliasNb) {
			buf = append(buf, pdfNbMark...)
			for r := '0'; r <= '9'; r++ {
				p.used[p.face.gidOf(r)] = true
			}
			s = s[len(p.aliasNb):]
			continue
		}
		r, n := rune(s[0]), 1
		if r >= 0x80 {
			r, n = utf8.DecodeRuneInString(s)
		}
		s = s[n:]
		g := p.face.gidOf(r)
		p.used[g] = true
		buf = appendGID(buf, g)
	}
	return append(buf, '>')
}

func appendGID(buf []byte, g uint16) []byte {
	const hex = "0123456789ABCDEF"
	return append(buf, hex[g>>12], hex[g>>8&15], hex[g>>4&15], hex[g&15])
}

func appendF(buf []byte, v float64, prec int) []byte {
	return strconv.AppendFloat(buf, v, 'f', prec, 64)
}

func (p *pdfw) out(s string) {
	if p.page > 0 {
		b := p.pages[p.page-1]
		b.WriteString(s)
		b.WriteByte('\n')
	}
}

func (p *pdfw) outb(s []byte) {
	if p.page > 0 {
		b := p.pages[p.page-1]
		b.Write(s)
		b.WriteByte('\n')
	}
}

// AddPage ends the current page (its footer) and starts the next (its header), keeping the
// font, line width and colors, as fpdf does.
func (p *pdfw) AddPage() {
	size, lw := p.fontSizePt, p.lineWidth
	fontOn := p.fontOn
	dc, fc, tc, cf := p.drawColor, p.fillColor, p.textColor, p.colorFlag
	if p.page > 0 && p.footer != nil {
		p.inFooter = true
		p.footer()
		p.inFooter = false
	}
	p.page++
	p.pages = append(p.pages, &bytes.Buffer{})
	p.x, p.y = p.lMargin, p.tMargin
	p.fontOn = false
	p.out("0 J")
	p.out("0 j")
	p.lineWidth = lw
	p.SetLineWidth(lw)
	if fontOn {
		p.SetFont("", "", size)
	}
	p.drawColor = dc
	if dc != "0.000 G" {
		p.out(dc)
	}
	p.fillColor = fc
	if fc != "0.000 g" {
		p.out(fc)
	}
	p.textColor, p.colorFlag = tc, cf
	if p.header != nil {
		p.inHeader = true
		p.header()
		p.inHeader = false
	}
	if p.lineWidth != lw {
		p.SetLineWidth(lw)
	}
	if fontOn {
		p.SetFont("", "", size)
	}
	if p.drawColor != dc {
		p.drawColor = dc
		p.out(dc)
	}
	if p.fillColor != fc {
		p.fillColor = fc
		p.out(fc)
	}
	p.textColor, p.colorFlag = tc, cf
}

// Close draws the last page's footer.
func (p *pdfw) Close() {
	if p.closed {
		return
	}
	if p.page == 0 {
		p.AddPage()
	}
	if p.footer != nil {
		p.inFooter = true
		p.footer()
		p.inFooter = false
	}
	p.closed = true
}

// Output writes the document; Close must have been called.
func (p *pdfw) Output(w io.Writer) error {
	if !p.closed {
		p.Close()
	}
	fo, err := p.face.objects(p.used)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.Grow(16 << 10)
	var offsets []int
	obj := func() int {
		offsets = append(offsets, b.Len())
		n := len(offsets)
		b.WriteString(strconv.Itoa(n))
		b.WriteString(" 0 obj\n")
		return n
	}
	end := func() { b.WriteString("\nendobj\n") }
	stream := func(dict string, data []byte) {
		b.WriteString("<<")
		b.WriteString(dict)
		b.WriteString(" /Length ")
		b.WriteString(strconv.Itoa(len(data)))
		b.WriteString(">>\nstream\n")
		b.Write(data)
		b.WriteString("\nendstream")
	}

	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	// 1 catalog, 2 pages, 3 resources, 4–8 the font, then the ExtGStates, then per page its
	// content and its page object, then the information dictionary.
	npages := len(p.pages)
	firstPage := 9 + len(p.alphas)
	obj()
	b.WriteString("<</Type /Catalog /Pages 2 0 R>>")
	end()
	obj()
	b.WriteString("<</Type /Pages /Count ")
	b.WriteString(strconv.Itoa(npages))
	b.WriteString(" /MediaBox [0 0 595.28 841.89] /Kids [")
	for i := range npages {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(firstPage + 2*i + 1))
		b.WriteString(" 0 R")
	}
	b.WriteString("]>>")
	end()
	obj()
	b.WriteString("<</ProcSet [/PDF /Text] /Font <</F1 4 0 R>>")
	if len(p.alphas) > 0 {
		b.WriteString(" /ExtGState <<")
		for i := range p.alphas {
			fmt.Fprintf(&b, "/GS%d %d 0 R ", i+1, 9+i)
		}
		b.Truncate(b.Len() - 1)
		b.WriteString(">>")
	}
	b.WriteString(">>")
	end()
	obj() // 4
	fmt.Fprintf(&b, "<</Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 8 0 R>>", fo.name)
	end()
	obj() // 5
	fmt.Fprintf(&b, "<</Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> /FontDescriptor 6 0 R /DW %d /W %s /CIDToGIDMap /Identity>>",
		fo.name, p.face.missing, fo.widths)
	end()
	obj() // 6
	fmt.Fprintf(&b, "<</Type /FontDescriptor /FontName /%s %s /FontFile2 7 0 R>>", fo.name, p.face.desc)
	end()
	obj() // 7
	stream(" /Filter /FlateDecode /Length1 "+strconv.Itoa(fo.fileLen), fo.file)
	end()
	obj() // 8
	stream(" /Filter /FlateDecode", fo.toUnicode)
	end()
	for _, a := range p.alphas {
		obj()
		fmt.Fprintf(&b, "<</Type /ExtGState /ca %s /CA %s /BM /Normal>>", a, a)
		end()
	}
	nb := appendGIDs(nil, p.face, strconv.Itoa(npages))
	zw := getZlib()
	defer putZlib(zw)
	var content bytes.Buffer
	for i, page := range p.pages {
		data := page.Bytes()
		if len(nb) > 0 && bytes.Contains(data, []byte(pdfNbMark)) {
			data = bytes.ReplaceAll(data, []byte(pdfNbMark), nb)
		}
		content.Reset()
		zw.Reset(&content)
		zw.Write(data)
		if err := zw.Close(); err != nil {
			return err
		}
		obj()
		stream(" /Filter /FlateDecode", content.Bytes())
		end()
		obj()
		fmt.Fprintf(&b, "<</Type /Page /Parent 2 0 R /Resources 3 0 R /Contents %d 0 R>>", firstPage+2*i)
		end()
	}
	info := obj()
	b.WriteString("<<")
	for _, kv := range [][2]string{{"Title", p.title}, {"Subject", p.subject}, {"Author", p.author}, {"Creator", p.creator}} {
		if kv[1] != "" {
			b.WriteString("/" + kv[0] + " ")
			b.Write(utf16Hex(kv[1]))
			b.WriteByte(' ')
		}
	}
	for _, kv := range []struct {
		k string
		t time.Time
	}{{"CreationDate", p.created}, {"ModDate", p.modified}} {
		if !kv.t.IsZero() {
			b.WriteString("/" + kv.k + " (D:" + kv.t.UTC().Format("20060102150405") + "Z) ")
		}
	}
	b.WriteString("/Producer (settle)>>")
	end()
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d /Root 1 0 R /Info %d 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, info, xref)
	_, err = w.Write(b.Bytes())
	return err
}

func appendGIDs(buf []byte, face *pdfFace, s string) []byte {
	for _, r := range s {
		buf = appendGID(buf, face.gidOf(r))
	}
	return buf
}

// utf16Hex is a PDF text string: UTF-16BE with a byte order mark, in hex.
func utf16Hex(s string) []byte {
	const hex = "0123456789ABCDEF"
	out := []byte("<FEFF")
	put := func(u uint16) { out = append(out, hex[u>>12], hex[u>>8&15], hex[u>>4&15], hex[u&15]) }
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			put(uint16(0xD800 + r>>10))
			put(uint16(0xDC00 + r&0x3FF))
			continue
		}
		put(uint16(r))
	}
	return append(out, '>')
}

var zlibPool sync.Pool

func getZlib() *zlib.Writer {
	if w, ok := zlibPool.Get().(*zlib.Writer); ok {
		return w
	}
	return zlib.NewWriter(io.Discard)
}

func putZlib(w *zlib.Writer) { zlibPool.Put(w) }

// pdfFace is the run's font as the PDF writer uses it: the run's cut of the face (runFont),
// parsed, with its glyph widths, and the embedded objects built so far, by set of glyphs.
type pdfFace struct {
	ttf     *ttfFont
	widths  []int  // per glyph id, 1/1000 em, rounded as fpdf rounds them
	runeOf  []rune // per glyph id, the (lowest) character drawn with it
	missing int    // width of a character the font lacks (glyph 0's)
	desc    string // the FontDescriptor's metrics

	mu   sync.Mutex
	sets map[string]*pdfFontObjects
}

// pdfFontObjects are what one document embeds of the face.
type pdfFontObjects struct {
	name      string // XXXXXX+MicroHei
	widths    string // the /W array
	file      []byte // the TrueType program, compressed
	fileLen   int
	toUnicode []byte // compressed CMap
}

func newPDFFace(data []byte) (*pdfFace, error) {
	f, err := parseTTF(data)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	head, hhea, hmtx := f.tables["head"], f.tables["hhea"], f.tables["hmtx"]
	upm := float64(be.Uint16(head[18:]))
	if upm == 0 {
		return nil, fmt.Errorf("%w: unitsPerEm 0", errBadFont)
	}
	scale := 1000 / upm
	face := &pdfFace{ttf: f, widths: make([]int, f.numGlyphs), runeOf: make([]rune, f.numGlyphs), sets: map[string]*pdfFontObjects{}}
	aw := 0
	for g := range f.numGlyphs {
		if g < f.numHMetrics {
			aw = int(be.Uint16(hmtx[4*g:]))
			if aw >= 1<<15 {
				aw = 0
			}
		}
		face.widths[g] = int(math.Round(scale * float64(aw)))
	}
	face.missing = int(math.Round(scale * float64(be.Uint16(hmtx[0:]))))
	for r := len(f.gid) - 1; r > 0; r-- {
		if g := f.gid[r]; g != 0 {
			face.runeOf[g] = rune(r)
		}
	}
	i16 := func(b []byte) int { return int(int16(be.Uint16(b))) }
	sc := func(v int) int { return int(float64(v) * scale) }
	ascent, descent := sc(i16(hhea[4:])), sc(i16(hhea[6:]))
	bbox := [4]int{sc(i16(head[36:])), sc(i16(head[38:])), sc(i16(head[40:])), sc(i16(head[42:]))}
	capHeight, weight := ascent, 400
	if os2 := f.tables["OS/2"]; len(os2) >= 6 {
		weight = int(be.Uint16(os2[4:]))
		if be.Uint16(os2) >= 2 && len(os2) >= 90 {
			capHeight = sc(i16(os2[88:]))
		}
	}
	stemV := 50 + int(math.Pow(float64(weight)/65, 2))
	face.desc = fmt.Sprintf("/Flags 4 /FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV %d /MissingWidth %d",
		bbox[0], bbox[1], bbox[2], bbox[3], ascent, descent, capHeight, stemV, face.missing)
	return face, nil
}

// gidOf is the glyph drawing r: 0 (.notdef) when the font has none.
func (f *pdfFace) gidOf(r rune) uint16 {
	if r < 0 || r >= 0xFFFF {
		return 0
	}
	return f.ttf.gid[r]
}

// runeWidth is r's advance in 1/1000 em, as fpdf counts it: a character the font lacks counts
// the missing width (or 500 when that is 0).
func (f *pdfFace) runeWidth(r rune) int {
	g := f.gidOf(r)
	if g == 0 {
		if f.missing != 0 {
			return f.missing
		}
		return 500
	}
	return f.widths[g]
}

// objects returns the embedded objects for a document that draws the glyphs marked in used,
// building them on the first request for that set.
func (f *pdfFace) objects(used []bool) (*pdfFontObjects, error) {
	used[0] = true
	key := make([]byte, (len(used)+7)/8)
	for g, u := range used {
		if u {
			key[g/8] |= 1 << (g % 8)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if o := f.sets[string(key)]; o != nil {
		return o, nil
	}
	o, err := f.build(used)
	if err != nil {
		return nil, err
	}
	f.sets[string(key)] = o
	return o, nil
}

func (f *pdfFace) build(used []bool) (*pdfFontObjects, error) {
	prog := f.ttf.strip(used)
	sum := sha256.Sum256(prog)
	name := make([]byte, 0, 15)
	for _, c := range sum[:6] {
		name = append(name, 'A'+c%26)
	}
	name = append(name, "+MicroHei"...)

	var w strings.Builder
	w.WriteByte('[')
	var cmap strings.Builder
	var entries []string
	for g, u := range used {
		if !u || g == 0 {
			continue
		}
		fmt.Fprintf(&w, "%d [%d] ", g, f.widths[g])
		if r := f.runeOf[g]; r != 0 {
			u16 := utf16Hex(string(r))
			entries = append(entries, fmt.Sprintf("<%04X> <%s>", g, u16[5:len(u16)-1]))
		}
	}
	ws := strings.TrimSuffix(w.String(), " ") + "]"
	cmap.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(entries) > 0 {
		n := min(len(entries), 100)
		fmt.Fprintf(&cmap, "%d beginbfchar\n%s\nendbfchar\n", n, strings.Join(entries[:n], "\n"))
		entries = entries[n:]
	}
	cmap.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
	file, err := deflateZlib(prog)
	if err != nil {
		return nil, err
	}
	tu, err := deflateZlib([]byte(cmap.String()))
	if err != nil {
		return nil, err
	}
	return &pdfFontObjects{name: string(name), widths: ws, file: file, fileLen: len(prog), toUnicode: tu}, nil
}

func deflateZlib(b []byte) ([]byte, error) {
	var out bytes.Buffer
	zw := getZlib()
	defer putZlib(zw)
	zw.Reset(&out)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// strip returns the font with the outlines of the glyphs not marked in keep (nor the
// components of one that is) left out; glyph ids, metrics and the character map stay.
func (f *ttfFont) strip(keep []bool) []byte {
	be := binary.BigEndian
	keep = append([]bool(nil), keep...)
	for g := 0; g < len(keep); g++ {
		if !keep[g] {
			continue
		}
		gl := f.glyph(g)
		components(gl, func(at int) {
			if c := int(be.Uint16(gl[at:])); c < f.numGlyphs && !keep[c] {
				keep[c] = true
				if c < g {
					g = c - 1 // revisit: its components too
				}
			}
		})
	}
	var glyf, loca []byte
	for g := range f.numGlyphs {
		loca = be.AppendUint32(loca, uint32(len(glyf)))
		if g < len(keep) && keep[g] {
			glyf = append(glyf, f.glyph(g)...)
			for len(glyf)%4 != 0 {
				glyf = append(glyf, 0)
			}
		}
	}
	loca = be.AppendUint32(loca, uint32(len(glyf)))
	head := append([]byte(nil), f.tables["head"]...)
	be.PutUint32(head[8:], 0)
	be.PutUint16(head[50:], 1) // long loca
	out := map[string][]byte{
		"cmap": f.tables["cmap"], "glyf": glyf, "head": head, "hhea": f.tables["hhea"], "hmtx": f.tables["hmtx"],
		"loca": loca, "maxp": f.tables["maxp"], "name": f.tables["name"], "OS/2": f.tables["OS/2"], "post": f.tables["post"],
	}
	for _, t := range []string{"cvt ", "fpgm", "prep", "gasp"} {
		if f.tables[t] != nil {
			out[t] = f.tables[t]
		}
	}
	return assembleSFNT(out)
}
