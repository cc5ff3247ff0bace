package report

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The workbooks are written here, part by part, straight into the zip: SpreadsheetML with
// inline strings, a style sheet built once per language and shared, sheets streamed row by
// row. (excelize, which wrote them before, builds a whole workbook model per file, writes
// every sheet with a 5 KB namespace preamble and allocates a new compressor for each of the
// twenty parts: three quarters of the time of a counter's workbook.) What a sheet holds and
// how it prints is decided in xlsx.go and rollup.go; this file only writes it.

// moneyFormat shows yuan with the currency sign, negatives in red.
const moneyFormat = `¥#,##0.00;[Red]-¥#,##0.00`

// cell is one cell of a row: Value is a string (always written as an inline string, never a
// formula), a float64, an int or int64, or nil (no cell); StyleID is a style of the book.
type cell struct {
	Value   any
	StyleID int
}

// book is one workbook being written sheet by sheet.
type book struct {
	l      *labels
	st     styles
	header string // print header (left part): what the pages belong to
	title  string
	stamp  time.Time

	zbuf   *bytes.Buffer // the package, compressed, until save writes it to its file
	zw     *zip.Writer
	sheets []sheetInfo
	cur    *xsheet
	err    error
}

type sheetInfo struct {
	name   string
	filter string // A1:H3, "" for none
	titles string // the Print_Titles of a wide sheet, "" for none
}

// styles of a workbook: indexes into the cell formats of the book's style sheet.
type styles struct {
	title, label, value, th, thLeft, text, textWrap, money, moneyBold, moneyShort int
	integer, totalText, banner, reason, section, note, statusOK, statusBad, sign  int
	signLabel, date, datetime, shortText                                          int
}

// newBook starts a workbook. Nothing touches the disk before save.
func newBook(l *labels, stamp time.Time, title, header string) (*book, error) {
	ss := styleSheetFor(l)
	b := &book{l: l, st: ss.ids, header: header, title: title, stamp: stamp, zbuf: getBuf()}
	b.zw = zip.NewWriter(b.zbuf)
	b.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return pooledFlate{getFlate(w)}, nil
	})
	return b, nil
}

// sheetSetup is what a sheet needs before its rows are streamed.
type sheetSetup struct {
	name      string
	landscape bool
	widths    []float64 // column widths, from column A
	freeze    int       // rows frozen at the top
	freezeCol int       // columns frozen at the left
	filter    string    // autofilter range, "" for none
	// wide sheets (the roll-ups) are not shrunk to the page width, which would make them
	// unreadable; their first freeze rows and freezeCol columns repeat on every printed page.
	wide bool
}

// xsheet is a sheet being streamed: its rows go into body; the parts after the rows (merged
// cells, print setup) are written by Flush.
type xsheet struct {
	b      *book
	setup  sheetSetup
	body   *bytes.Buffer
	merges []byte
	nmerge int
}

// sheet adds a sheet with A4 print setup fit to the page width, page-number footers, frozen
// rows, column widths and autofilter, and returns its writer. The previous sheet must have
// been flushed.
func (b *book) sheet(s sheetSetup) (*xsheet, error) {
	if b.err != nil {
		return nil, b.err
	}
	body := getBuf()
	body.WriteString(xmlHeader)
	body.WriteString(`<worksheet xmlns="` + nsMain + `" xmlns:r="` + nsRel + `">`)
	if !s.wide {
		body.WriteString(`<sheetPr><pageSetUpPr fitToPage="true"/></sheetPr>`)
	}
	body.WriteString(`<sheetViews><sheetView workbookViewId="0"`)
	if len(b.sheets) == 0 {
		body.WriteString(` tabSelected="1"`)
	}
	if s.freeze > 0 || s.freezeCol > 0 {
		pane := "bottomLeft"
		switch {
		case s.freeze > 0 && s.freezeCol > 0:
			pane = "bottomRight"
		case s.freezeCol > 0:
			pane = "topRight"
		}
		body.WriteString(`><pane`)
		if s.freezeCol > 0 {
			body.WriteString(` xSplit="` + strconv.Itoa(s.freezeCol) + `"`)
		}
		if s.freeze > 0 {
			body.WriteString(` ySplit="` + strconv.Itoa(s.freeze) + `"`)
		}
		body.WriteString(` topLeftCell="` + cellName(s.freezeCol+1, s.freeze+1) + `" activePane="` + pane + `" state="frozen"/>`)
		body.WriteString(`<selection pane="` + pane + `"/></sheetView></sheetViews>`)
	} else {
		body.WriteString(`/></sheetViews>`)
	}
	body.WriteString(`<sheetFormatPr defaultRowHeight="15"/>`)
	if len(s.widths) > 0 {
		body.WriteString(`<cols>`)
		for i, w := range s.widths {
			n := strconv.Itoa(i + 1)
			body.WriteString(`<col min="` + n + `" max="` + n + `" width="` + strconv.FormatFloat(w, 'f', -1, 64) + `" customWidth="1"/>`)
		}
		body.WriteString(`</cols>`)
	}
	body.WriteString(`<sheetData>`)
	info := sheetInfo{name: s.name, filter: s.filter}
	if s.wide && s.freeze > 0 && s.freezeCol > 0 {
		q := quoteSheet(s.name)
		info.titles = fmt.Sprintf("%s!$A:$%s,%s!$%d:$%d", q, colName(s.freezeCol), q, 2, s.freeze)
	}
	b.sheets = append(b.sheets, info)
	b.cur = &xsheet{b: b, setup: s, body: body}
	return b.cur, nil
}

// row writes row r (1-based; rows are written in order) with its cells from column A, nil
// values skipped; height 0 leaves the row's height to the application.
func (s *xsheet) row(r int, values []any, height float64) error {
	buf := s.body.AvailableBuffer()
	rs := strconv.Itoa(r)
	buf = append(buf, `<row r="`...)
	buf = append(buf, rs...)
	if height > 0 {
		buf = append(buf, `" ht="`...)
		buf = strconv.AppendFloat(buf, height, 'f', -1, 64)
		buf = append(buf, `" customHeight="1`...)
	}
	buf = append(buf, `">`...)
	for i, v := range values {
		c, ok := v.(cell)
		if !ok {
			if v == nil {
				continue
			}
			c = cell{Value: v}
		}
		if c.Value == nil {
			continue
		}
		buf = append(buf, `<c r="`...)
		buf = append(buf, colName(i+1)...)
		buf = append(buf, rs...)
		if c.StyleID != 0 {
			buf = append(buf, `" s="`...)
			buf = strconv.AppendInt(buf, int64(c.StyleID), 10)
		}
		switch x := c.Value.(type) {
		case string:
			buf = append(buf, `" t="inlineStr"><is><t`...)
			if needsPreserve(x) {
				buf = append(buf, ` xml:space="preserve"`...)
			}
			buf = append(buf, '>')
			buf = appendEscaped(buf, x)
			buf = append(buf, `</t></is></c>`...)
		case float64:
			buf = append(buf, `"><v>`...)
			buf = strconv.AppendFloat(buf, x, 'f', -1, 64)
			buf = append(buf, `</v></c>`...)
		case int:
			buf = append(buf, `"><v>`...)
			buf = strconv.AppendInt(buf, int64(x), 10)
			buf = append(buf, `</v></c>`...)
		case int64:
			buf = append(buf, `"><v>`...)
			buf = strconv.AppendInt(buf, x, 10)
			buf = append(buf, `</v></c>`...)
		default:
			return fmt.Errorf("cell %s%d: unsupported value type %T", colName(i+1), r, c.Value)
		}
	}
	buf = append(buf, `</row>`...)
	s.body.Write(buf)
	return nil
}

// merge merges columns c1..c2 (1-based) of rows r1..r2.
func (s *xsheet) merge(c1, r1, c2, r2 int) error {
	s.merges = append(s.merges, `<mergeCell ref="`...)
	s.merges = append(s.merges, cellName(c1, r1)...)
	s.merges = append(s.merges, ':')
	s.merges = append(s.merges, cellName(c2, r2)...)
	s.merges = append(s.merges, `"/>`...)
	s.nmerge++
	return nil
}

// Flush ends the sheet and writes it into the workbook.
func (s *xsheet) Flush() error {
	b, st, body := s.b, s.setup, s.body
	defer putBuf(body)
	b.cur = nil
	body.WriteString(`</sheetData>`)
	if st.filter != "" {
		body.WriteString(`<autoFilter ref="` + st.filter + `"/>`)
	}
	if s.nmerge > 0 {
		body.WriteString(`<mergeCells count="` + strconv.Itoa(s.nmerge) + `">`)
		body.Write(s.merges)
		body.WriteString(`</mergeCells>`)
	}
	body.WriteString(`<pageMargins left="0.5" right="0.5" top="0.5" bottom="0.5" header="0" footer="0"/>`)
	orient := "portrait"
	if st.landscape {
		orient = "landscape"
	}
	if st.wide {
		body.WriteString(`<pageSetup paperSize="9" scale="80" orientation="` + orient + `"/>`)
	} else {
		body.WriteString(`<pageSetup paperSize="9" fitToWidth="1" fitToHeight="0" orientation="` + orient + `"/>`)
	}
	footer := "&L" + footerEscape(b.header) + "&C" + b.l.xlsxFooter
	body.WriteString(`<headerFooter><oddFooter>`)
	body.Write(appendEscaped(nil, footer))
	body.WriteString(`</oddFooter></headerFooter></worksheet>`)
	return b.part(fmt.Sprintf("xl/worksheets/sheet%d.xml", len(b.sheets)), body.Bytes())
}

// part writes one part of the package, compressed.
func (b *book) part(name string, data []byte) error {
	if b.err != nil {
		return b.err
	}
	w, err := b.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err == nil {
		_, err = w.Write(data)
	}
	if err != nil {
		b.err = fmt.Errorf("write %s: %w", name, err)
	}
	return b.err
}

// sharedPart writes a part whose bytes recur in many workbooks (the style sheet, the
// relationships of a given number of sheets): compressed once per process.
func (b *book) sharedPart(name string, data []byte) error {
	if b.err != nil {
		return b.err
	}
	key := name + "\x00" + string(data)
	v, ok := sharedParts.Load(key)
	if !ok {
		var c bytes.Buffer
		fw := getFlate(&c)
		fw.Write(data)
		fw.Close()
		flatePool.Put(fw)
		v, _ = sharedParts.LoadOrStore(key, &rawPart{data: c.Bytes(), crc: crc32.ChecksumIEEE(data), size: uint64(len(data))})
	}
	p := v.(*rawPart)
	w, err := b.zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: p.crc,
		CompressedSize64: uint64(len(p.data)), UncompressedSize64: p.size})
	if err == nil {
		_, err = w.Write(p.data)
	}
	if err != nil {
		b.err = fmt.Errorf("write %s: %w", name, err)
	}
	return b.err
}

type rawPart struct {
	data []byte
	crc  uint32
	size uint64
}

var sharedParts sync.Map // name + "\x00" + content → *rawPart

// save writes the workbook's remaining parts and then the file at path; on error no file is
// left there. The book cannot be used afterwards.
func (b *book) save(path string) (err error) {
	defer func() {
		putBuf(b.zbuf)
		b.zbuf, b.zw = nil, nil
	}()
	if b.err != nil {
		return b.err
	}
	if b.cur != nil {
		return fmt.Errorf("sheet %q not flushed", b.cur.setup.name)
	}
	n := len(b.sheets)
	ss := styleSheetFor(b.l)
	at := b.stamp.UTC().Format("2006-01-02T15:04:05Z")
	lang := map[string]string{"zh": "zh-CN", "en": "en-US"}[b.l.lang]
	core := xmlHeader + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"` +
		` xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"` +
		` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>` + string(appendEscaped(nil, b.title)) +
		`</dc:title><dc:creator>settle</dc:creator><cp:lastModifiedBy>settle</cp:lastModifiedBy><dc:language>` + lang +
		`</dc:language><dcterms:created xsi:type="dcterms:W3CDTF">` + at + `</dcterms:created>` +
		`<dcterms:modified xsi:type="dcterms:W3CDTF">` + at + `</dcterms:modified></cp:coreProperties>`

	var wb strings.Builder
	wb.WriteString(xmlHeader + `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRel + `"><bookViews><workbookView/></bookViews><sheets>`)
	for i, s := range b.sheets {
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, appendEscaped(nil, s.name), i+1, i+1)
	}
	wb.WriteString(`</sheets>`)
	var names strings.Builder
	for i, s := range b.sheets {
		if s.filter != "" {
			a, z, _ := strings.Cut(s.filter, ":")
			fmt.Fprintf(&names, `<definedName name="_xlnm._FilterDatabase" localSheetId="%d" hidden="1">%s</definedName>`,
				i, appendEscaped(nil, quoteSheet(s.name)+"!"+absRef(a)+":"+absRef(z)))
		}
		if s.titles != "" {
			fmt.Fprintf(&names, `<definedName name="_xlnm.Print_Titles" localSheetId="%d">%s</definedName>`, i, appendEscaped(nil, s.titles))
		}
	}
	if names.Len() > 0 {
		wb.WriteString(`<definedNames>` + names.String() + `</definedNames>`)
	}
	wb.WriteString(`</workbook>`)

	if err := b.part("docProps/core.xml", []byte(core)); err != nil {
		return err
	}
	if err := b.part("xl/workbook.xml", []byte(wb.String())); err != nil {
		return err
	}
	if err := b.sharedPart("xl/styles.xml", ss.xml); err != nil {
		return err
	}
	if err := b.sharedPart("xl/theme/theme1.xml", []byte(themeXML)); err != nil {
		return err
	}
	if err := b.sharedPart("xl/_rels/workbook.xml.rels", workbookRels(n)); err != nil {
		return err
	}
	if err := b.sharedPart("[Content_Types].xml", contentTypes(n)); err != nil {
		return err
	}
	if err := b.sharedPart("_rels/.rels", []byte(rootRels)); err != nil {
		return err
	}
	if err := b.sharedPart("docProps/app.xml", []byte(appXML)); err != nil {
		return err
	}
	if err := b.zw.Close(); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	return writeFile(path, b.zbuf.Bytes())
}

// writeFile writes data to a new file at path; on error the file is removed.
func writeFile(path string, data []byte) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = out.Write(data)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}

const (
	xmlHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	nsMain    = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRel     = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	rootRels  = xmlHeader + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
		`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>` +
		`</Relationships>`
	appXML = xmlHeader + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">` +
		`<Application>settle</Application></Properties>`
	// themeXML is the smallest theme the schema allows (Office's colors and fonts): Excel does
	// not need one, but some readers (excelize) resolve every color through it.
	themeXML = xmlHeader + `<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office Theme"><a:themeElements>` +
		`<a:clrScheme name="Office"><a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1>` +
		`<a:dk2><a:srgbClr val="44546A"/></a:dk2><a:lt2><a:srgbClr val="E7E6E6"/></a:lt2><a:accent1><a:srgbClr val="4472C4"/></a:accent1>` +
		`<a:accent2><a:srgbClr val="ED7D31"/></a:accent2><a:accent3><a:srgbClr val="A5A5A5"/></a:accent3><a:accent4><a:srgbClr val="FFC000"/></a:accent4>` +
		`<a:accent5><a:srgbClr val="5B9BD5"/></a:accent5><a:accent6><a:srgbClr val="70AD47"/></a:accent6><a:hlink><a:srgbClr val="0563C1"/></a:hlink>` +
		`<a:folHlink><a:srgbClr val="954F72"/></a:folHlink></a:clrScheme>` +
		`<a:fontScheme name="Office"><a:majorFont><a:latin typeface="Calibri Light"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>` +
		`<a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont></a:fontScheme>` +
		`<a:fmtScheme name="Office"><a:fillStyleLst>` + themeFill + themeFill + themeFill + `</a:fillStyleLst><a:lnStyleLst>` +
		themeLine + themeLine + themeLine + `</a:lnStyleLst><a:effectStyleLst>` + themeEffect + themeEffect + themeEffect +
		`</a:effectStyleLst><a:bgFillStyleLst>` + themeFill + themeFill + themeFill + `</a:bgFillStyleLst></a:fmtScheme>` +
		`</a:themeElements></a:theme>`
	themeFill   = `<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>`
	themeLine   = `<a:ln w="6350">` + themeFill + `</a:ln>`
	themeEffect = `<a:effectStyle><a:effectLst/></a:effectStyle>`
)

func workbookRels(n int) []byte {
	var s strings.Builder
	s.WriteString(xmlHeader + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i, i)
	}
	fmt.Fprintf(&s, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>`, n+1)
	fmt.Fprintf(&s, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme" Target="theme/theme1.xml"/>`, n+2)
	s.WriteString(`</Relationships>`)
	return []byte(s.String())
}

func contentTypes(n int) []byte {
	var s strings.Builder
	s.WriteString(xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		`<Override PartName="/xl/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>` +
		`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
		`<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, i)
	}
	s.WriteString(`</Types>`)
	return []byte(s.String())
}

// The style sheet: one per language (the default font differs), built on first use.

// xstyle is one cell format.
type xstyle struct {
	bold      bool
	size      float64 // pt; 0: the default
	color     string  // font color RRGGBB; "" default
	fill      string  // solid fill RRGGBB; "" none
	border    int     // 0 none, 1 thin grid (A6A6A6) on all sides, 2 thin black bottom
	numFmt    int     // built-in number format id
	custom    string  // custom number format, instead of numFmt
	horiz     string
	vert      string
	wrap      bool
	noAlignOK bool
}

type styleSheet struct {
	ids styles
	xml []byte
}

var (
	styleSheetsMu sync.Mutex
	styleSheets   = map[string]*styleSheet{}
)

func styleSheetFor(l *labels) *styleSheet {
	styleSheetsMu.Lock()
	defer styleSheetsMu.Unlock()
	if s := styleSheets[l.lang]; s != nil {
		return s
	}
	s := buildStyleSheet(l)
	styleSheets[l.lang] = s
	return s
}

func buildStyleSheet(l *labels) *styleSheet {
	ss := &styleSheet{}
	st := &ss.ids
	grid, bottom := 1, 2
	gray, light, pink, red, okFill := "E7E6E6", "F2F2F2", "FFC7CE", "C00000", "C6EFCE"
	defs := []struct {
		id *int
		s  xstyle
	}{
		{&st.title, xstyle{bold: true, size: 16, horiz: "center", vert: "center"}},
		{&st.label, xstyle{bold: true, fill: gray, border: grid, vert: "center"}},
		{&st.value, xstyle{border: grid, vert: "center", wrap: true}},
		{&st.th, xstyle{bold: true, fill: gray, border: grid, horiz: "center", vert: "center", wrap: true}},
		{&st.thLeft, xstyle{bold: true, fill: gray, border: grid, vert: "center"}},
		{&st.text, xstyle{border: grid, vert: "center"}},
		{&st.textWrap, xstyle{vert: "top", wrap: true}},
		{&st.shortText, xstyle{vert: "top"}},
		{&st.money, xstyle{border: grid, custom: moneyFormat, vert: "center"}},
		{&st.moneyBold, xstyle{bold: true, fill: light, border: grid, custom: moneyFormat, vert: "center"}},
		{&st.moneyShort, xstyle{bold: true, color: "9C0006", fill: pink, border: grid, custom: moneyFormat, vert: "center"}},
		{&st.integer, xstyle{border: grid, numFmt: 1, vert: "center"}},
		{&st.totalText, xstyle{bold: true, fill: light, border: grid, vert: "center"}},
		{&st.banner, xstyle{bold: true, size: 20, color: "FFFFFF", fill: red, horiz: "center", vert: "center"}},
		{&st.reason, xstyle{bold: true, color: "C00000", vert: "top", wrap: true}},
		{&st.section, xstyle{bold: true, size: 12, vert: "center"}},
		{&st.note, xstyle{color: "595959", vert: "center"}},
		{&st.statusOK, xstyle{bold: true, color: "006100", fill: okFill, border: grid, vert: "center"}},
		{&st.statusBad, xstyle{bold: true, size: 12, color: "FFFFFF", fill: red, border: grid, vert: "center"}},
		{&st.sign, xstyle{border: bottom}},
		{&st.signLabel, xstyle{bold: true, size: 12, horiz: "right", vert: "bottom"}},
		{&st.date, xstyle{custom: "yyyy-mm-dd", vert: "top"}},
		{&st.datetime, xstyle{custom: "yyyy-mm-dd hh:mm:ss", vert: "top"}},
	}
	fontName := "Calibri"
	if l.lang == "zh" {
		fontName = "等线" // the default font of Chinese Excel and WPS
	}
	font := func(s xstyle) string {
		size := s.size
		if size == 0 {
			size = 11
		}
		f := "<font>"
		if s.bold {
			f += `<b/>`
		}
		f += `<sz val="` + strconv.FormatFloat(size, 'f', -1, 64) + `"/>`
		if s.color != "" {
			f += `<color rgb="FF` + s.color + `"/>`
		}
		return f + `<name val="` + fontName + `"/><family val="2"/></font>`
	}
	fill := func(s xstyle) string {
		if s.fill == "" {
			return `<fill><patternFill patternType="none"/></fill>`
		}
		return `<fill><patternFill patternType="solid"><fgColor rgb="FF` + s.fill + `"/></patternFill></fill>`
	}
	borders := []string{
		`<border><left/><right/><top/><bottom/><diagonal/></border>`,
		`<border><left style="thin"><color rgb="FFA6A6A6"/></left><right style="thin"><color rgb="FFA6A6A6"/></right>` +
			`<top style="thin"><color rgb="FFA6A6A6"/></top><bottom style="thin"><color rgb="FFA6A6A6"/></bottom><diagonal/></border>`,
		`<border><left/><right/><top/><bottom style="thin"><color rgb="FF000000"/></bottom><diagonal/></border>`,
	}
	fonts := []string{font(xstyle{})}
	fills := []string{`<fill><patternFill patternType="none"/></fill>`, `<fill><patternFill patternType="gray125"/></fill>`}
	var numFmts []string
	index := func(list *[]string, s string) int {
		for i, x := range *list {
			if x == s {
				return i
			}
		}
		*list = append(*list, s)
		return len(*list) - 1
	}
	xfs := []string{`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>`}
	for _, d := range defs {
		s := d.s
		fontID, fillID := index(&fonts, font(s)), 0
		if s.fill != "" {
			fillID = index(&fills, fill(s))
		}
		nf := s.numFmt
		if s.custom != "" {
			nf = 164 + index(&numFmts, s.custom)
		}
		xf := fmt.Sprintf(`<xf numFmtId="%d" fontId="%d" fillId="%d" borderId="%d" xfId="0"`, nf, fontID, fillID, s.border)
		if nf != 0 {
			xf += ` applyNumberFormat="1"`
		}
		if fontID != 0 {
			xf += ` applyFont="1"`
		}
		if fillID != 0 {
			xf += ` applyFill="1"`
		}
		if s.border != 0 {
			xf += ` applyBorder="1"`
		}
		if s.horiz != "" || s.vert != "" || s.wrap {
			xf += ` applyAlignment="1"><alignment`
			if s.horiz != "" {
				xf += ` horizontal="` + s.horiz + `"`
			}
			if s.vert != "" {
				xf += ` vertical="` + s.vert + `"`
			}
			if s.wrap {
				xf += ` wrapText="1"`
			}
			xf += `/></xf>`
		} else {
			xf += `/>`
		}
		*d.id = len(xfs)
		xfs = append(xfs, xf)
	}
	var b strings.Builder
	b.WriteString(xmlHeader + `<styleSheet xmlns="` + nsMain + `">`)
	if len(numFmts) > 0 {
		fmt.Fprintf(&b, `<numFmts count="%d">`, len(numFmts))
		for i, f := range numFmts {
			fmt.Fprintf(&b, `<numFmt numFmtId="%d" formatCode="%s"/>`, 164+i, appendEscaped(nil, f))
		}
		b.WriteString(`</numFmts>`)
	}
	fmt.Fprintf(&b, `<fonts count="%d">%s</fonts>`, len(fonts), strings.Join(fonts, ""))
	fmt.Fprintf(&b, `<fills count="%d">%s</fills>`, len(fills), strings.Join(fills, ""))
	fmt.Fprintf(&b, `<borders count="%d">%s</borders>`, len(borders), strings.Join(borders, ""))
	b.WriteString(`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>`)
	fmt.Fprintf(&b, `<cellXfs count="%d">%s</cellXfs>`, len(xfs), strings.Join(xfs, ""))
	b.WriteString(`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
		`<dxfs count="0"/><tableStyles count="0"/></styleSheet>`)
	ss.xml = []byte(b.String())
	return ss
}

// Cell references.

var colNames = func() []string {
	out := make([]string, 0, 702)
	for i := 1; i <= 702; i++ { // A … ZZ
		out = append(out, colNameSlow(i))
	}
	return out
}()

func colNameSlow(c int) string {
	var b []byte
	for c > 0 {
		c--
		b = append([]byte{byte('A' + c%26)}, b...)
		c /= 26
	}
	return string(b)
}

// colName is the letters of 1-based column c.
func colName(c int) string {
	if c >= 1 && c <= len(colNames) {
		return colNames[c-1]
	}
	return colNameSlow(c)
}

// cellName is the A1 reference of 1-based column c, row r.
func cellName(c, r int) string { return colName(c) + strconv.Itoa(r) }

// absRef turns A1 into $A$1.
func absRef(ref string) string {
	i := 0
	for i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z' {
		i++
	}
	return "$" + ref[:i] + "$" + ref[i:]
}

// quoteSheet quotes a sheet name for a formula or defined name.
func quoteSheet(name string) string { return "'" + strings.ReplaceAll(name, "'", "''") + "'" }

// Text.

// appendEscaped appends s with the characters XML gives a meaning to escaped (for text and
// attribute values alike).
func appendEscaped(buf []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		buf = append(buf, s[last:i]...)
		buf = append(buf, esc...)
		last = i + 1
	}
	return append(buf, s[last:]...)
}

// needsPreserve: leading or trailing white space, or a line break or tab, which a reader would
// otherwise be free to collapse.
func needsPreserve(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return true
	}
	return strings.ContainsAny(s, "\n\t\r")
}

// footerEscape keeps an &-code out of a header/footer text.
func footerEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range xmlSafe(s) {
		if r == '&' {
			out = append(out, '&', '&')
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// colWidth turns a display width (CJK counted 2) into an Excel column width.
func colWidth(w int, lo, hi float64) float64 {
	x := float64(w)*1.2 + 2
	return min(max(x, lo), hi)
}

// str is a text cell: always a string value, so nothing read from a feed becomes a formula.
func str(s string, style int) cell {
	return cell{Value: xmlSafe(s), StyleID: style}
}

// fen is a money cell.
func fen(v int64, style int) cell {
	return cell{Value: yuanCell(v), StyleID: style}
}

// Buffers and compressors, reused across workbooks.

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 4<<20 {
		bufPool.Put(b)
	}
}

// xlsxLevel is the deflate level of the parts: BestSpeed is three times as fast as the
// default on this XML, and the files about a fifth larger.
const xlsxLevel = flate.BestSpeed

var flatePool sync.Pool

func getFlate(w io.Writer) *flate.Writer {
	if fw, ok := flatePool.Get().(*flate.Writer); ok {
		fw.Reset(w)
		return fw
	}
	fw, _ := flate.NewWriter(w, xlsxLevel)
	return fw
}

// pooledFlate returns its compressor to the pool when the zip entry is closed.
type pooledFlate struct{ *flate.Writer }

func (p pooledFlate) Close() error {
	err := p.Writer.Close()
	flatePool.Put(p.Writer)
	return err
}
