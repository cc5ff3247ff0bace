package report

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/xuri/excelize/v2"

	"settle/internal/i18n"
	"settle/internal/sheettext"
	"settle/internal/xlsxrows"
)

// moneyFormat shows yuan with the currency sign, negatives in red.
const moneyFormat = `¥#,##0.00;[Red]-¥#,##0.00`

// book is one workbook being written sheet by sheet.
type book struct {
	w      bookWriter
	l      *labels
	st     styles
	header string // print header (left part): what the pages belong to
	warn   string // printed in red at the top of every page when not "" (the open day)
}

// bookWriter makes a workbook's sheets and writes its package: directBook (xlsxw.go); the
// tests also write the same layouts through excelize.
type bookWriter interface {
	sheet(b *book, s sheetSetup) (xlsxrows.Sink, error)
	write(w io.Writer) error
}

// styles of a workbook, created once per workbook.
type styles struct {
	title, label, value, th, thLeft, text, textWrap, money, moneyBold, moneyShort int
	integer, totalText, banner, reason, section, note, statusOK, statusBad, sign  int
	signLabel, date, datetime, shortText                                          int
}

func newBook(l *labels, stamp time.Time, title, header string) (*book, error) {
	base, err := bookBases[l.lang]()
	if err != nil {
		return nil, err
	}
	return &book{w: &directBook{base: base, lang: l.lang, stamp: stamp, title: title}, l: l, st: base.st, header: header}, nil
}

// sheet adds a sheet with A4 print setup fit to the page width, page-number footers, frozen
// rows, column widths and autofilter, and returns what its rows are written into.
func (b *book) sheet(s sheetSetup) (xlsxrows.Sink, error) { return b.w.sheet(b, s) }

// footer is every sheet's printed footer: what the pages belong to, and the page number.
func (b *book) footer() string {
	return "&L" + footerEscape(b.header) + "&C" + b.l.s(i18n.ReportXlsxFooter)
}

// The styles and theme parts of a workbook's package.
const (
	stylesPart = "xl/styles.xml"
	themePart  = "xl/theme/theme1.xml"
)

// bookBase is what every workbook of a language shares, made once per process through
// excelize: the ids of its 23 styles and excelize's styles part holding them, and excelize's
// theme part.
type bookBase struct {
	st                  styles
	stylesXML, themeXML []byte
}

// bookBases makes each language's base on first use.
var bookBases = map[string]func() (*bookBase, error){
	"zh": sync.OnceValues(func() (*bookBase, error) { return makeBookBase("zh") }),
	"en": sync.OnceValues(func() (*bookBase, error) { return makeBookBase("en") }),
}

func makeBookBase(lang string) (*bookBase, error) {
	f := excelize.NewFile()
	defer f.Close()
	// Before anything is written: NewFile puts the theme template in the package as it is.
	theme, _ := f.Pkg.Load(themePart)
	b := &bookBase{}
	b.themeXML, _ = theme.([]byte)
	if len(b.themeXML) == 0 {
		return nil, fmt.Errorf("workbook: excelize has no %s", themePart)
	}
	b.themeXML = bytes.Clone(b.themeXML)
	if lang == "zh" {
		// The default font of Chinese Excel and WPS; English keeps excelize's Calibri.
		if err := f.SetDefaultFont("等线"); err != nil {
			return nil, err
		}
	}
	if err := makeStyles(f, &b.st); err != nil {
		return nil, err
	}
	// Writing the workbook is how excelize marshals its style sheet into its package.
	if err := f.Write(io.Discard); err != nil {
		return nil, fmt.Errorf("workbook styles: %w", err)
	}
	part, ok := f.Pkg.Load(stylesPart)
	data, _ := part.([]byte)
	if !ok || len(data) == 0 {
		return nil, fmt.Errorf("workbook styles: excelize wrote no %s", stylesPart)
	}
	b.stylesXML = bytes.Clone(data)
	return b, nil
}

func makeStyles(f *excelize.File, st *styles) error {
	money := moneyFormat
	thin := func(color string) []excelize.Border {
		return []excelize.Border{
			{Type: "left", Color: color, Style: 1}, {Type: "right", Color: color, Style: 1},
			{Type: "top", Color: color, Style: 1}, {Type: "bottom", Color: color, Style: 1},
		}
	}
	grid := thin("A6A6A6")
	gray := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E7E6E6"}}
	light := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}}
	pink := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}
	red := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C00000"}}
	vcenter := &excelize.Alignment{Vertical: "center"}
	defs := []struct {
		id *int
		s  excelize.Style
	}{
		{&st.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}}},
		{&st.label, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: gray, Border: grid, Alignment: vcenter}},
		{&st.value, excelize.Style{Border: grid, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}}},
		{&st.th, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: gray, Border: grid, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&st.thLeft, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: gray, Border: grid, Alignment: &excelize.Alignment{Vertical: "center"}}},
		{&st.text, excelize.Style{Border: grid, Alignment: vcenter}},
		{&st.textWrap, excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
		{&st.shortText, excelize.Style{Alignment: &excelize.Alignment{Vertical: "top"}}},
		{&st.money, excelize.Style{Border: grid, CustomNumFmt: &money, Alignment: vcenter}},
		{&st.moneyBold, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: light, Border: grid, CustomNumFmt: &money, Alignment: vcenter}},
		{&st.moneyShort, excelize.Style{Font: &excelize.Font{Bold: true, Color: "9C0006"}, Fill: pink, Border: grid, CustomNumFmt: &money, Alignment: vcenter}},
		{&st.integer, excelize.Style{Border: grid, NumFmt: 1, Alignment: vcenter}},
		{&st.totalText, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: light, Border: grid, Alignment: vcenter}},
		{&st.banner, excelize.Style{Font: &excelize.Font{Bold: true, Size: 20, Color: "FFFFFF"}, Fill: red, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}}},
		{&st.reason, excelize.Style{Font: &excelize.Font{Bold: true, Color: "C00000"}, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
		{&st.section, excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}, Alignment: vcenter}},
		{&st.note, excelize.Style{Font: &excelize.Font{Color: "595959"}, Alignment: vcenter}},
		{&st.statusOK, excelize.Style{Font: &excelize.Font{Bold: true, Color: "006100"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C6EFCE"}}, Border: grid, Alignment: vcenter}},
		{&st.statusBad, excelize.Style{Font: &excelize.Font{Bold: true, Size: 12, Color: "FFFFFF"}, Fill: red, Border: grid, Alignment: vcenter}},
		{&st.sign, excelize.Style{Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}}},
		{&st.signLabel, excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}, Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "bottom"}}},
		{&st.date, excelize.Style{CustomNumFmt: strPtr("yyyy-mm-dd"), Alignment: &excelize.Alignment{Vertical: "top"}}},
		{&st.datetime, excelize.Style{CustomNumFmt: strPtr("yyyy-mm-dd hh:mm:ss"), Alignment: &excelize.Alignment{Vertical: "top"}}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(&d.s)
		if err != nil {
			return err
		}
		*d.id = id
	}
	return nil
}

func strPtr(s string) *string { return &s }

// sheetSetup is what a sheet needs before its rows are streamed.
type sheetSetup struct {
	name      string
	landscape bool
	widths    []float64 // column widths, from column A
	freeze    int       // rows frozen at the top
	freezeCol int       // columns frozen at the left
	filter    string    // autofilter range, "" for none
	// wide sheets (the roll-ups) print landscape on one page width like the others, and
	// their header rows (2 to freeze) repeat on every printed page.
	wide bool
}

// footerEscape keeps an &-code out of a header/footer text.
func footerEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range sheettext.XMLSafe(s) {
		if r == '&' {
			out = append(out, '&', '&')
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// save writes the workbook to rel in r's run.
func (b *book) save(r *renderer, rel string) error {
	return r.writeFile(rel, b.w.write)
}

// colWidth turns a display width (CJK counted 2) into an Excel column width.
func colWidth(w int, lo, hi float64) float64 {
	x := float64(w)*1.2 + 2
	return min(max(x, lo), hi)
}

// str is a text cell: always a string value, so nothing read from a feed becomes a formula.
func str(s string, style int) excelize.Cell {
	return excelize.Cell{Value: s, StyleID: style} // made XML-safe where it is written (directSheet.text)
}

// fen is a money cell.
func fen(v int64, style int) excelize.Cell {
	return excelize.Cell{Value: yuanCell(v), StyleID: style}
}

// sortedZip is excelize's ZipWriter with its parts written in name order: excelize writes
// streamed sheets in map order, which would make two renders of one report differ.
//
// It also decides how the parts are compressed, which was a quarter of a full run's CPU
// (archive/zip's level-5 deflate, and a new ~1 MB compressor for each of a workbook's ~20
// parts whenever a garbage collection had emptied archive/zip's pool): parts are deflated at
// BestSpeed by compressors kept across workbooks, and the parts every workbook repeats
// byte for byte (theme, styles, relationships, content types) are compressed once. The
// compressor is klauspost/compress's deflate (already in the build through Arrow): on a
// typical workbook's parts its level 1 takes 0.87 ms against compress/flate's 1.32 ms, for
// the same size (42.7 KB against 42.9 KB).
type sortedZip struct {
	w     io.Writer
	parts map[string]*bytes.Buffer
}

func (z *sortedZip) Create(name string) (io.Writer, error) {
	if z.parts == nil {
		z.parts = map[string]*bytes.Buffer{}
	}
	if _, dup := z.parts[name]; dup {
		return nil, fmt.Errorf("zip part %q written twice", name)
	}
	b := getPartBuf()
	z.parts[name] = b
	return b, nil
}

// put adds the part name holding b.
func (z *sortedZip) put(name string, b []byte) error {
	w, err := z.Create(name)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func (z *sortedZip) AddFS(fs.FS) error { return errors.New("sortedZip: AddFS not supported") }

func (z *sortedZip) Close() error {
	names := make([]string, 0, len(z.parts))
	for n := range z.parts {
		names = append(names, n)
	}
	defer func() {
		for _, b := range z.parts {
			putPartBuf(b)
		}
		z.parts = nil
	}()
	// [Content_Types].xml first, as Office writes it; the rest by name.
	sort.Slice(names, func(i, j int) bool {
		ci, cj := names[i] == "[Content_Types].xml", names[j] == "[Content_Types].xml"
		if ci != cj {
			return ci
		}
		return names[i] < names[j]
	})
	zw := zip.NewWriter(z.w)
	for _, n := range names {
		data := z.parts[n].Bytes()
		if repeatedParts[n] {
			p := compressedPart(n, data)
			w, err := zw.CreateRaw(&zip.FileHeader{Name: n, Method: zip.Deflate, CRC32: p.crc,
				CompressedSize64: uint64(len(p.data)), UncompressedSize64: uint64(len(data))})
			if err != nil {
				return err
			}
			if _, err := w.Write(p.data); err != nil {
				return err
			}
			continue
		}
		if err := writeDeflated(zw, n, data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeDeflated writes one part deflated.
func writeDeflated(zw *zip.Writer, name string, data []byte) error {
	out := getPartBuf()
	defer putPartBuf(out)
	fw := getFlate(out)
	fw.Write(data)
	err := fw.Close()
	putFlate(fw)
	if err != nil {
		return err
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: uint64(out.Len()), UncompressedSize64: uint64(len(data))})
	if err != nil {
		return err
	}
	_, err = w.Write(out.Bytes())
	return err
}

// repeatedParts are the parts excelize writes the same in every workbook of a language and
// number of sheets.
var repeatedParts = map[string]bool{
	"[Content_Types].xml": true, "_rels/.rels": true, "docProps/app.xml": true,
	"xl/_rels/workbook.xml.rels": true, "xl/styles.xml": true, "xl/theme/theme1.xml": true,
}

type rawPart struct {
	data []byte // deflated
	crc  uint32
}

var (
	rawPartsMu sync.Mutex
	rawParts   = map[string]map[string]*rawPart{} // name → content → compressed once
	rawCount   int
)

// compressedPart returns data deflated, from the cache when the same part with the same
// bytes was compressed before.
func compressedPart(name string, data []byte) *rawPart {
	rawPartsMu.Lock()
	p := rawParts[name][string(data)] // a lookup by string(data) copies nothing
	rawPartsMu.Unlock()
	if p != nil {
		return p
	}
	var c bytes.Buffer
	fw := getFlate(&c)
	fw.Write(data)
	fw.Close()
	putFlate(fw)
	p = &rawPart{data: c.Bytes(), crc: crc32.ChecksumIEEE(data)}
	rawPartsMu.Lock()
	if rawCount < 256 { // a handful in practice: languages × numbers of sheets
		if rawParts[name] == nil {
			rawParts[name] = map[string]*rawPart{}
		}
		if rawParts[name][string(data)] == nil {
			rawParts[name][string(data)] = p
			rawCount++
		}
	}
	rawPartsMu.Unlock()
	return p
}

// Compressors and part buffers are kept in small channels rather than sync.Pools, which
// every garbage collection empties (and a full run collects often).
var (
	flatePool   = make(chan *flate.Writer, 16)
	partBufPool = make(chan *bytes.Buffer, 256)
)

func getFlate(w io.Writer) *flate.Writer {
	select {
	case fw := <-flatePool:
		fw.Reset(w)
		return fw
	default:
	}
	fw, _ := flate.NewWriter(w, flate.BestSpeed)
	return fw
}

func putFlate(fw *flate.Writer) {
	select {
	case flatePool <- fw:
	default:
	}
}

func getPartBuf() *bytes.Buffer {
	select {
	case b := <-partBufPool:
		b.Reset()
		return b
	default:
		return &bytes.Buffer{}
	}
}

func putPartBuf(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return
	}
	select {
	case partBufPool <- b:
	default:
	}
}
