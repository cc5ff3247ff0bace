package report

// A small PDF writer for the period reports. A province-month writes one PDF per outlet
// (3,125 of them); fpdf costs every document a fixed ~3–4 ms and ~3.5 MB of garbage to
// parse the font, JSON-encode its 65,536 widths and compress a 128 KiB glyph map, which was
// most of the period's report time. The period PDFs only need text in cells, filled and
// ruled boxes and lines, so they are drawn here with the subset face cut, measured and
// compressed once per set of characters (periodFont) and shared by every document using it.
// The layout code (period_pdf.go) calls the same few methods it called on fpdf.

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// pdfFont is a face cut to a set of characters, ready to embed: rune → glyph id, the
// glyphs' advances, and the font objects' bodies (built once).
type pdfFont struct {
	*runFont
	gid      []uint16 // BMP rune → glyph id in the subset (0: none)
	adv      []uint16 // glyph id → advance, in 1/1000 em
	stream   []byte   // the subset, zlib-compressed
	rawLen   int
	widths   string // the CIDFont's /W array
	toUni    []byte // the ToUnicode CMap
	name     string // /XXXXXX+MicroHei
	ascent   int
	descent  int
	bbox     [4]int
	fontData []byte
}

// newPDFFont cuts base to runes (sorted, distinct, all in base) and prepares its objects.
func newPDFFont(base *ttfFont, runes []rune, rf *runFont) *pdfFont {
	be := binary.BigEndian
	f := &pdfFont{runFont: rf, gid: make([]uint16, 0x10000), fontData: rf.data}
	// The subset's glyph ids, as ttfFont.subset numbers them: glyph 0, then the runes'
	// glyphs in rune order (components come after and are never drawn directly).
	newID := map[int]int{0: 0}
	order := []int{0}
	for _, r := range runes {
		g := int(base.gid[r])
		id, ok := newID[g]
		if !ok {
			id = len(order)
			newID[g] = id
			order = append(order, g)
		}
		f.gid[r] = uint16(id)
	}
	upem := 1000
	if h := base.tables["head"]; len(h) >= 54 {
		upem = int(be.Uint16(h[18:]))
		for i := range 4 {
			f.bbox[i] = int(int16(be.Uint16(h[36+2*i:]))) * 1000 / upem
		}
	}
	if h := base.tables["hhea"]; len(h) >= 8 {
		f.ascent = int(int16(be.Uint16(h[4:]))) * 1000 / upem
		f.descent = int(int16(be.Uint16(h[6:]))) * 1000 / upem
	}
	hm := base.tables["hmtx"]
	f.adv = make([]uint16, len(order))
	var w strings.Builder
	w.WriteString("[0 [")
	for id, old := range order {
		at := 4 * min(old, base.numHMetrics-1)
		a := 0
		if at+2 <= len(hm) {
			a = int(be.Uint16(hm[at:])) * 1000 / upem
		}
		f.adv[id] = uint16(a)
		if id > 0 {
			w.WriteByte(' ')
		}
		w.WriteString(strconv.Itoa(a))
	}
	w.WriteString("]]")
	f.widths = w.String()
	// ToUnicode: each glyph id back to its character (pdftotext reads the text through it).
	var tu bytes.Buffer
	tu.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	var pairs [][2]int
	seen := map[int]bool{}
	for _, r := range runes {
		id := int(f.gid[r])
		if id != 0 && !seen[id] {
			seen[id] = true
			pairs = append(pairs, [2]int{id, int(r)})
		}
	}
	for len(pairs) > 0 {
		n := min(len(pairs), 100)
		fmt.Fprintf(&tu, "%d beginbfchar\n", n)
		for _, p := range pairs[:n] {
			fmt.Fprintf(&tu, "<%04X> <%04X>\n", p[0], p[1])
		}
		tu.WriteString("endbfchar\n")
		pairs = pairs[n:]
	}
	tu.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	f.toUni = tu.Bytes()
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	zw.Write(rf.data)
	zw.Close()
	f.stream, f.rawLen = z.Bytes(), len(rf.data)
	sum := sha256.Sum256(rf.data)
	tag := make([]byte, 0, 7+len(subsetSuffix))
	tag = append(tag, '/')
	for _, b := range sum[:6] {
		tag = append(tag, 'A'+b%26)
	}
	f.name = string(append(tag, subsetSuffix...))
	return f
}

// width is s's width at size pt, in mm.
func (f *pdfFont) width(s string, size float64) float64 {
	n := 0
	for _, r := range s {
		if r < 0x10000 {
			n += int(f.adv[f.gid[r]])
		}
	}
	return float64(n) * size / 1000 / pdfK
}

const pdfK = 72 / 25.4 // points per mm

// liteDoc is a PDF being drawn, with fpdf's coordinates: mm from the page's top left.
type liteDoc struct {
	font             *pdfFont
	pages            []*bytes.Buffer
	cur              *bytes.Buffer
	x, y             float64
	lMargin, tMargin float64
	size             float64 // pt
	text, fill, draw [3]int
	lineWidth        float64
	header           func()
	pageNo           int // the page a footer is being drawn for
	total            int
	num              []byte
}

func newLiteDoc(font *pdfFont, margin float64) *liteDoc {
	return &liteDoc{font: font, lMargin: margin, tMargin: margin, lineWidth: 0.2}
}

func (d *liteDoc) f(v float64) {
	d.num = strconv.AppendFloat(d.num[:0], v, 'f', 2, 64)
	d.cur.Write(d.num)
	d.cur.WriteByte(' ')
}

func (d *liteDoc) rgb(c [3]int, op string) {
	for _, v := range c {
		d.f(float64(v) / 255)
	}
	d.cur.WriteString(op)
	d.cur.WriteByte('\n')
}

// AddPage starts a page and draws the running head.
func (d *liteDoc) AddPage() {
	d.cur = &bytes.Buffer{}
	d.pages = append(d.pages, d.cur)
	d.f(d.lineWidth * pdfK)
	d.cur.WriteString("w\n")
	d.rgb(d.draw, "RG")
	d.x, d.y = d.lMargin, d.tMargin
	if d.header != nil {
		d.header()
	}
}

func (d *liteDoc) PageNo() int {
	if d.pageNo > 0 {
		return d.pageNo
	}
	return len(d.pages)
}

func (d *liteDoc) SetFont(_, _ string, size float64) { d.size = size }
func (d *liteDoc) SetTextColor(r, g, b int)          { d.text = [3]int{r, g, b} }
func (d *liteDoc) SetFillColor(r, g, b int)          { d.fill = [3]int{r, g, b} }
func (d *liteDoc) SetXY(x, y float64)                { d.x, d.y = x, y }
func (d *liteDoc) SetX(x float64)                    { d.x = x }
func (d *liteDoc) GetY() float64                     { return d.y }
func (d *liteDoc) Ln(h float64)                      { d.x, d.y = d.lMargin, d.y+h }
func (d *liteDoc) GetStringWidth(s string) float64   { return d.font.width(s, d.size) }

// Line draws a line in the draw colour.
func (d *liteDoc) Line(x1, y1, x2, y2 float64) {
	d.f(x1 * pdfK)
	d.f((ppH - y1) * pdfK)
	d.cur.WriteString("m ")
	d.f(x2 * pdfK)
	d.f((ppH - y2) * pdfK)
	d.cur.WriteString("l S\n")
}

// CellFormat draws txt in a w×h cell at the current position as fpdf does: filled with the
// fill colour when fill, boxed when border is "1", aligned L, R or C with a 1 mm margin;
// then moves right (ln 0) or to the next line (ln 1).
func (d *liteDoc) CellFormat(w, h float64, txt, border string, ln int, align string, fill bool, _ int, _ string) {
	if fill || border == "1" {
		if fill {
			d.rgb(d.fill, "rg")
		}
		d.f(d.x * pdfK)
		d.f((ppH - d.y - h) * pdfK)
		d.f(w * pdfK)
		d.f(h * pdfK)
		switch {
		case fill && border == "1":
			d.cur.WriteString("re B\n")
		case fill:
			d.cur.WriteString("re f\n")
		default:
			d.cur.WriteString("re S\n")
		}
	}
	if txt != "" {
		if d.total > 0 {
			txt = strings.ReplaceAll(txt, "{nb}", strconv.Itoa(d.total))
		}
		const cMargin = 1.0
		dx := cMargin
		switch align {
		case "R":
			dx = w - cMargin - d.GetStringWidth(txt)
		case "C":
			dx = (w - d.GetStringWidth(txt)) / 2
		}
		d.rgb(d.text, "rg")
		d.cur.WriteString("BT /F1 ")
		d.f(d.size)
		d.cur.WriteString("Tf ")
		d.f((d.x + dx) * pdfK)
		d.f((ppH - (d.y + h/2 + 0.3*d.size/pdfK)) * pdfK)
		d.cur.WriteString("Td <")
		for _, r := range txt {
			g := uint16(0)
			if r < 0x10000 {
				g = d.font.gid[r]
			}
			d.cur.WriteString(hex4(g))
		}
		d.cur.WriteString("> Tj ET\n")
	}
	if ln == 1 {
		d.x, d.y = d.lMargin, d.y+h
	} else {
		d.x += w
	}
}

func hex4(g uint16) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[g>>12], digits[g>>8&15], digits[g>>4&15], digits[g&15]})
}

// finish draws footer on every page (PageNo and {nb} then say which page of how many) and
// writes the document.
func (d *liteDoc) finish(w io.Writer, footer func(), title string, stamp time.Time) error {
	d.total = len(d.pages)
	for i, pg := range d.pages {
		d.cur, d.pageNo = pg, i+1
		footer()
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
	// 1 catalog, 2 pages, 3 info, 4–8 the font, then a page and its content per page.
	const firstPage = 9
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
	date := "D:" + stamp.UTC().Format("20060102150405") + "Z"
	fmt.Fprintf(&out, "<</Title %s /Author (settle) /Creator (settle) /Producer (settle) /CreationDate (%s) /ModDate (%s)>>\nendobj\n",
		pdfText16(title), date, date)
	f := d.font
	obj() // 4
	fmt.Fprintf(&out, "<</Type /Font /Subtype /Type0 /BaseFont %s /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 8 0 R>>\nendobj\n", f.name)
	obj() // 5
	fmt.Fprintf(&out, "<</Type /Font /Subtype /CIDFontType2 /BaseFont %s /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> /FontDescriptor 6 0 R /CIDToGIDMap /Identity /W %s>>\nendobj\n", f.name, f.widths)
	obj() // 6
	fmt.Fprintf(&out, "<</Type /FontDescriptor /FontName %s /Flags 4 /FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 7 0 R>>\nendobj\n",
		f.name, f.bbox[0], f.bbox[1], f.bbox[2], f.bbox[3], f.ascent, f.descent, f.ascent)
	stream(fmt.Sprintf("/Filter /FlateDecode /Length1 %d", f.rawLen), f.stream) // 7
	stream("", f.toUni)                                                         // 8
	for i, pg := range d.pages {
		obj()
		fmt.Fprintf(&out, "<</Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources <</Font <</F1 4 0 R>>>> /Contents %d 0 R>>\nendobj\n",
			ppW*pdfK, ppH*pdfK, firstPage+2*i+1)
		stream("", pg.Bytes())
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
