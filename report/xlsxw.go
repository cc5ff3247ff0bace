package report

// The daily workbooks (counters and roll-ups), written directly. excelize's StreamWriter
// cost a counter's workbook ~5 ms of CPU, seven times its PDF: its per-workbook set-up
// (opening a package, sheet properties marshalled by reflection, columns copied on every
// width set), a type switch, a regexp and an allocation per cell. The sheets, workbook,
// content types and properties are written here as excelize writes them; the styles and
// theme are the parts excelize made once per language (bookBase). A test writes the same
// layouts through excelize and reads both back (TestDirectBookLikeExcelize).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"settle/internal/sheettext"
	"settle/internal/xlsxrows"
)

// directBook writes a workbook's parts itself.
type directBook struct {
	base   *bookBase
	lang   string
	stamp  time.Time
	title  string
	sheets []*directSheet
}

// directSheet is one worksheet being written: its XML up to the rows, the rows, its merges.
type directSheet struct {
	b       *book
	setup   sheetSetup
	xml     *bytes.Buffer
	merges  bytes.Buffer
	nMerge  int
	lastRow int
	lastCol int // the last column a cell was written in (1-based)
	dimAt   int // where the dimension's "A1" sits in xml, made the used range at Flush
	done    bool
	num     []byte
}

var errSheetName = errors.New("invalid sheet name")

// checkSheetName refuses what Excel refuses in a sheet's name.
func checkSheetName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 31 || strings.ContainsAny(name, `:\/?*[]`) ||
		strings.HasPrefix(name, "'") || strings.HasSuffix(name, "'") {
		return fmt.Errorf("%w: %q", errSheetName, name)
	}
	return nil
}

func (d *directBook) sheet(b *book, s sheetSetup) (xlsxrows.Sink, error) {
	if err := checkSheetName(s.name); err != nil {
		return nil, err
	}
	for _, o := range d.sheets {
		if strings.EqualFold(o.setup.name, s.name) {
			return nil, fmt.Errorf("%w: %q twice", errSheetName, s.name)
		}
	}
	sh := &directSheet{b: b, setup: s, xml: getPartBuf()}
	d.sheets = append(d.sheets, sh)
	x := sh.xml
	x.WriteString(xmlHead + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetPr`)
	if s.filter != "" {
		x.WriteString(` filterMode="true"`)
	}
	x.WriteString(`><pageSetUpPr fitToPage="true"></pageSetUpPr></sheetPr><dimension ref="`)
	sh.dimAt = x.Len()
	x.WriteString(`A1"></dimension><sheetViews><sheetView`)
	if len(d.sheets) == 1 {
		x.WriteString(` tabSelected="true"`)
	}
	x.WriteString(` workbookViewId="0">`)
	if s.freeze > 0 || s.freezeCol > 0 {
		pane := "bottomLeft"
		switch {
		case s.freeze > 0 && s.freezeCol > 0:
			pane = "bottomRight"
		case s.freezeCol > 0:
			pane = "topRight"
		}
		fmt.Fprintf(x, `<pane activePane="%s" state="frozen" topLeftCell="%s%d"`, pane, colName(s.freezeCol), s.freeze+1)
		if s.freezeCol > 0 {
			fmt.Fprintf(x, ` xSplit="%d"`, s.freezeCol)
		}
		if s.freeze > 0 {
			fmt.Fprintf(x, ` ySplit="%d"`, s.freeze)
		}
		x.WriteString(`></pane>`)
	}
	x.WriteString(`</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"></sheetFormatPr>`)
	if len(s.widths) > 0 {
		x.WriteString(`<cols>`)
		for i, w := range s.widths {
			if w < 0 || w > 255 {
				return nil, fmt.Errorf("sheet %q: column width %v out of range", s.name, w)
			}
			fmt.Fprintf(x, `<col min="%d" max="%d" width="%s" customWidth="1"/>`, i+1, i+1, strconv.FormatFloat(w, 'f', -1, 64))
		}
		x.WriteString(`</cols>`)
	}
	x.WriteString(`<sheetData>`)
	return sh, nil
}

const xmlHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// SetRow writes the row of cell ("A7": row 7, from column A) with values, as excelize's
// StreamWriter.SetRow does: a nil value is no cell; an excelize.Cell gives its style.
func (s *directSheet) SetRow(cell string, values []any, opts ...excelize.RowOpts) error {
	col, row, err := excelize.CellNameToCoordinates(cell)
	if err != nil {
		return err
	}
	if s.done {
		return fmt.Errorf("sheet %q: row %d after the sheet was flushed", s.setup.name, row)
	}
	if row <= s.lastRow {
		return fmt.Errorf("sheet %q: row %d after row %d", s.setup.name, row, s.lastRow)
	}
	s.lastRow = row
	x := s.xml
	x.WriteString(`<row r="`)
	s.int(int64(row))
	x.WriteByte('"')
	for _, o := range opts {
		if o.Height > 0 {
			if o.Height > excelize.MaxRowHeight {
				return excelize.ErrMaxRowHeight
			}
			x.WriteString(` ht="`)
			x.WriteString(strconv.FormatFloat(o.Height, 'f', -1, 64))
			x.WriteString(`" customHeight="1"`)
			break // one height a row
		}
	}
	x.WriteByte('>')
	ref := make([]byte, 0, 12)
	rowNum := strconv.AppendInt(make([]byte, 0, 8), int64(row), 10)
	for i, v := range values {
		if v == nil {
			continue
		}
		style := 0
		switch c := v.(type) {
		case excelize.Cell:
			style, v = c.StyleID, c.Value
		case *excelize.Cell:
			if c == nil {
				continue
			}
			style, v = c.StyleID, c.Value
		}
		ref = append(appendColName(ref[:0], col-1+i), rowNum...)
		s.lastCol = max(s.lastCol, col+i)
		s.cell(ref, style, v)
	}
	x.WriteString(`</row>`)
	return nil
}

func (s *directSheet) int(n int64) {
	s.num = strconv.AppendInt(s.num[:0], n, 10)
	s.xml.Write(s.num)
}

// cell writes one cell: text inline, numbers as numbers (at most 15 significant digits, as
// Excel keeps them).
func (s *directSheet) cell(ref []byte, style int, v any) {
	x := s.xml
	x.WriteString(`<c r="`)
	x.Write(ref)
	x.WriteByte('"')
	if style != 0 {
		x.WriteString(` s="`)
		s.int(int64(style))
		x.WriteByte('"')
	}
	if f, ok := v.(float32); ok {
		v = float64(f)
	}
	num := func(n []byte) {
		x.WriteString(`><v>`)
		x.Write(n)
		x.WriteString(`</v></c>`)
	}
	switch v := v.(type) {
	case nil:
		x.WriteString(`></c>`)
	case string:
		s.text(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s.text(fmt.Sprint(v))
			return
		}
		num(floatCell(s.num[:0], v))
	case int:
		num(strconv.AppendInt(s.num[:0], int64(v), 10))
	case int64:
		num(strconv.AppendInt(s.num[:0], v, 10))
	case int32:
		num(strconv.AppendInt(s.num[:0], int64(v), 10))
	case bool:
		x.WriteString(` t="b"><v>`)
		if v {
			x.WriteByte('1')
		} else {
			x.WriteByte('0')
		}
		x.WriteString(`</v></c>`)
	default:
		s.text(fmt.Sprint(v))
	}
}

// floatCell appends v as excelize writes a number: as many digits as it takes, but only 15
// significant ones (Excel keeps no more): digits after the 15th are cut from the fraction, or
// written as zeros in the integer part (the fraction then dropped).
func floatCell(b []byte, v float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	if math.Abs(v) == math.MaxFloat64 {
		return b
	}
	num := b[start:]
	dot := bytes.IndexByte(num, '.')
	sig := 0
	for i, c := range num {
		if c < '0' || c > '9' || sig == 0 && c == '0' {
			continue
		}
		if sig++; sig <= 15 {
			continue
		}
		if dot >= 0 && i > dot {
			return bytes.TrimSuffix(b[:start+i], []byte("."))
		}
		if dot < 0 {
			dot = len(num)
		}
		for j := i; j < dot; j++ {
			num[j] = '0'
		}
		return b[:start+dot]
	}
	return b
}

// maxCellText is the most a cell holds, in UTF-16 units.
const maxCellText = 32767

// text writes an inline string cell. Leading or trailing white space is kept (xml:space);
// a run that reads as an escaped character (_x0041_) is escaped itself so it reads back as
// written; over 32,767 UTF-16 units the text is cut.
func (s *directSheet) text(v string) {
	x := s.xml
	v = sheettext.XMLSafe(v)
	if len(v) > maxCellText {
		n := 0
		for i, r := range v {
			if n += utf16.RuneLen(r); n > maxCellText {
				v = v[:i]
				break
			}
		}
	}
	x.WriteString(` t="inlineStr"><is><t`)
	if v != "" && (strings.IndexByte(" \t\n\r", v[0]) >= 0 || strings.IndexByte(" \t\n\r", v[len(v)-1]) >= 0) {
		x.WriteString(` xml:space="preserve"`)
	}
	x.WriteByte('>')
	from := 0 // v[from:i] is written as it is
	for i := 0; i < len(v); i++ {
		var esc string
		switch v[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		case '_':
			if !isEscapeRun(v[i:]) {
				continue
			}
			esc = "_x005F_"
		default:
			continue
		}
		x.WriteString(v[from:i])
		x.WriteString(esc)
		from = i + 1
	}
	x.WriteString(v[from:])
	x.WriteString(`</t></is></c>`)
}

// isEscapeRun reports whether s starts with _xHHHH_, which a reader turns into one character.
func isEscapeRun(s string) bool {
	if len(s) < 7 || s[1] != 'x' || s[6] != '_' {
		return false
	}
	for _, c := range []byte(s[2:6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// MergeCell merges the cells from topLeft to bottomRight.
func (s *directSheet) MergeCell(topLeft, bottomRight string) error {
	if _, _, err := excelize.CellNameToCoordinates(topLeft); err != nil {
		return err
	}
	if _, _, err := excelize.CellNameToCoordinates(bottomRight); err != nil {
		return err
	}
	s.merges.WriteString(`<mergeCell ref="` + topLeft + ":" + bottomRight + `"/>`)
	s.nMerge++
	return nil
}

// Flush ends the sheet: its filter, merges and print set-up.
func (s *directSheet) Flush() error {
	if s.done {
		return nil
	}
	s.done = true
	x, st := s.xml, s.setup
	if s.lastRow > 0 && s.lastCol > 0 && (s.lastRow > 1 || s.lastCol > 1) {
		// The used range, which readers that stream a sheet (openpyxl's read-only mode) go by.
		dim := "A1:" + colName(s.lastCol-1) + strconv.Itoa(s.lastRow)
		b := x.Bytes()
		whole := make([]byte, 0, len(b)+len(dim))
		whole = append(append(append(whole, b[:s.dimAt]...), dim...), b[s.dimAt+len("A1"):]...)
		x.Reset()
		x.Write(whole)
	}
	x.WriteString(`</sheetData>`)
	if st.filter != "" {
		ref, err := absRange(st.filter)
		if err != nil {
			return fmt.Errorf("sheet %q: filter: %w", st.name, err)
		}
		x.WriteString(`<autoFilter ref="` + ref + `"></autoFilter>`)
	}
	if s.nMerge > 0 {
		fmt.Fprintf(x, `<mergeCells count="%d">`, s.nMerge)
		x.Write(s.merges.Bytes())
		x.WriteString(`</mergeCells>`)
	}
	orient := "portrait"
	if st.landscape {
		orient = "landscape"
	}
	x.WriteString(`<pageMargins left="0.5" right="0.5" top="0.5" bottom="0.5" header="0" footer="0"></pageMargins><pageSetup fitToHeight="0" fitToWidth="1" orientation="` + orient + `" paperSize="9"></pageSetup><headerFooter>`)
	b := s.b
	if b.warn != "" {
		x.WriteString(`<oddHeader>`)
		x.WriteString(xmlEsc(`&C&"-,Bold"&14&KC00000` + footerEscape(b.warn)))
		x.WriteString(`</oddHeader>`)
	}
	x.WriteString(`<oddFooter>`)
	x.WriteString(xmlEsc(b.footer()))
	x.WriteString(`</oddFooter></headerFooter></worksheet>`)
	return nil
}

// appendColName appends the letters of the 0-based column c.
func appendColName(b []byte, c int) []byte {
	if c < 26 {
		return append(b, byte('A'+c))
	}
	return append(b, colName(c)...)
}

// absRange turns "A1:I7" into "$A$1:$I$7".
func absRange(r string) (string, error) {
	a, b, ok := strings.Cut(r, ":")
	if !ok {
		b = a
	}
	var out []string
	for _, c := range []string{a, b} {
		col, row, err := excelize.CellNameToCoordinates(c)
		if err != nil {
			return "", err
		}
		out = append(out, "$"+colName(col-1)+"$"+strconv.Itoa(row))
	}
	return out[0] + ":" + out[1], nil
}

// write writes the workbook's package.
func (d *directBook) write(w io.Writer) error {
	defer d.release()
	if len(d.sheets) == 0 {
		return errors.New("workbook: no sheet")
	}
	pkg := workbookPackage{title: d.title, lang: d.lang, stamp: d.stamp, styles: d.base.stylesXML, theme: d.base.themeXML}
	var names strings.Builder
	for i, s := range d.sheets {
		if err := s.Flush(); err != nil {
			return err
		}
		pkg.sheets = append(pkg.sheets, s.setup.name)
		quoted := "'" + strings.ReplaceAll(s.setup.name, "'", "''") + "'"
		if s.setup.filter != "" {
			ref, _ := absRange(s.setup.filter)
			fmt.Fprintf(&names, `<definedName hidden="true" localSheetId="%d" name="_xlnm._FilterDatabase">%s</definedName>`, i, xmlEsc(quoted+"!"+ref))
		}
		if s.setup.wide && s.setup.freeze > 1 {
			fmt.Fprintf(&names, `<definedName localSheetId="%d" name="_xlnm.Print_Titles">%s</definedName>`, i, xmlEsc(fmt.Sprintf("%s!$%d:$%d", quoted, 2, s.setup.freeze)))
		}
	}
	pkg.names = names.String()
	z := &sortedZip{w: w}
	if err := writePackage(z, &pkg); err != nil {
		return err
	}
	for i, s := range d.sheets {
		if err := z.put(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), s.xml.Bytes()); err != nil {
			return err
		}
	}
	return z.Close()
}

// workbookPackage is what a directly written workbook (a daily report's, a period report's)
// holds besides its worksheets.
type workbookPackage struct {
	title, lang   string // lang "": no dc:language
	stamp         time.Time
	styles, theme []byte   // the parts excelize made
	sheets        []string // the sheets' names, in order: xl/worksheets/sheet1.xml, …
	names         string   // the workbook's defined names (definedName elements)
}

// writePackage writes into z every part of p's workbook but its worksheets.
func writePackage(z *sortedZip, p *workbookPackage) error {
	n := len(p.sheets)
	var ct, wb, rels strings.Builder
	ct.WriteString(xmlHead + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"></Default><Default Extension="xml" ContentType="application/xml"></Default><Override PartName="/xl/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"></Override><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"></Override><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"></Override><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"></Override><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"></Override>`)
	rels.WriteString(xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	wb.WriteString(xmlHead + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><fileVersion appName="xl" lastEdited="6" lowestEdited="6" rupBuild="14420"></fileVersion><workbookPr filterPrivacy="true" defaultThemeVersion="164011"></workbookPr><bookViews><workbookView xWindow="0" yWindow="0" windowWidth="14805" windowHeight="8010"></workbookView></bookViews><sheets>`)
	for i, name := range p.sheets {
		fmt.Fprintf(&ct, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"></Override>`, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Target="worksheets/sheet%d.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"></Relationship>`, i+1, i+1)
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"></sheet>`, xmlEsc(name), i+1, i+1)
	}
	ct.WriteString(`</Types>`)
	fmt.Fprintf(&rels, `<Relationship Id="rId%d" Target="styles.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"></Relationship><Relationship Id="rId%d" Target="theme/theme1.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme"></Relationship></Relationships>`, n+1, n+2)
	wb.WriteString(`</sheets>`)
	if p.names != "" {
		wb.WriteString(`<definedNames>` + p.names + `</definedNames>`)
	}
	wb.WriteString(`<calcPr calcId="122211"></calcPr></workbook>`)
	at := p.stamp.UTC().Format("2006-01-02T15:04:05Z")
	lang := ""
	if tag := map[string]string{"zh": "zh-CN", "en": "en-US"}[p.lang]; tag != "" {
		lang = `<dc:language>` + tag + `</dc:language>`
	}
	core := xmlHead + `<coreProperties xmlns="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>` +
		xmlEsc(p.title) + `</dc:title><dc:creator>settle</dc:creator><lastModifiedBy>settle</lastModifiedBy>` + lang + `<dcterms:created xsi:type="dcterms:W3CDTF">` + at +
		`</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">` + at + `</dcterms:modified></coreProperties>`
	for _, part := range []struct {
		name string
		data []byte
	}{
		{"[Content_Types].xml", []byte(ct.String())},
		{"_rels/.rels", []byte(packageRels)},
		{"docProps/app.xml", []byte(appProps)},
		{"docProps/core.xml", []byte(core)},
		{"xl/workbook.xml", []byte(wb.String())},
		{"xl/_rels/workbook.xml.rels", []byte(rels.String())},
		{stylesPart, p.styles},
		{themePart, p.theme},
	} {
		if err := z.put(part.name, part.data); err != nil {
			return err
		}
	}
	return nil
}

// release returns the sheets' buffers.
func (d *directBook) release() {
	for _, s := range d.sheets {
		if s.xml != nil {
			putPartBuf(s.xml)
			s.xml = nil
		}
	}
}

const (
	packageRels = xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Target="docProps/app.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties"></Relationship><Relationship Id="rId2" Target="docProps/core.xml" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"></Relationship><Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"></Relationship></Relationships>`
	appProps    = xmlHead + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><TotalTime>0</TotalTime><Application>settle</Application></Properties>`
)
