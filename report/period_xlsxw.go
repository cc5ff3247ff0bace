package report

// The period workbooks, written directly. excelize costs every workbook ~1.3 ms of CPU and
// a few MB of garbage before the first cell (it parses its templates for each new file),
// which a province-month pays 3,126 times. The styles and theme are taken once per language
// from a workbook excelize writes with the same styles (periodXLSXParts); the sheets are
// written here, as excelize's StreamWriter writes them, and the rest of the package by
// writePackage, as the daily reports' (xlsxw.go).

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"settle/internal/i18n"
	"settle/internal/sheettext"
)

// The cell styles of writePeriodXLSXExcelize, in the order it creates them.
const (
	pxBold = iota + 1
	pxTitle
	pxHead
	pxMoney
	pxMoneyBold
	pxRed
)

// periodXLSXStatic are the parts every period workbook of a language shares.
var periodXLSXStatic sync.Map // lang → map[string][]byte

var staticNames = []string{stylesPart, themePart}

func periodXLSXParts(lang string) (map[string][]byte, error) {
	if v, ok := periodXLSXStatic.Load(lang); ok {
		return v.(map[string][]byte), nil
	}
	var buf bytes.Buffer
	d := &PeriodDoc{Lang: lang, Title: "t", Tables: []PeriodTable{{Title: "t", Sheet: "s", Columns: []PeriodColumn{{Label: "c"}}}}}
	if err := writePeriodXLSXExcelize(&buf, d); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return nil, err
	}
	parts := map[string][]byte{}
	for _, f := range zr.File {
		for _, n := range staticNames {
			if f.Name != n {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
			parts[n] = b
		}
	}
	for _, n := range staticNames {
		if parts[n] == nil {
			return nil, fmt.Errorf("xlsx template: no part %s", n)
		}
	}
	v, _ := periodXLSXStatic.LoadOrStore(lang, parts)
	return v.(map[string][]byte), nil
}

// WritePeriodXLSX writes d as a workbook: one sheet per table, A4 landscape fit to one page
// width, the title and column headings repeated on every printed page, headings frozen,
// money as numbers in yuan with the currency format, every text a string cell.
func WritePeriodXLSX(w io.Writer, d *PeriodDoc) error {
	parts, err := periodXLSXParts(d.Lang)
	if err != nil {
		return err
	}
	l := i18n.Zh
	if d.Lang == "en" {
		l = i18n.En
	}
	// The period reports' properties name no language (the workbook excelize writes for
	// them, which the tests compare, sets none).
	pkg := workbookPackage{title: d.Title, stamp: d.Stamp, styles: parts[stylesPart], theme: parts[themePart]}
	var names strings.Builder
	for i, t := range d.Tables {
		pkg.sheets = append(pkg.sheets, t.Sheet)
		headRow := 3 + len(d.Header)
		quoted := "'" + strings.ReplaceAll(t.Sheet, "'", "''") + "'"
		fmt.Fprintf(&names, `<definedName localSheetId="%d" name="_xlnm.Print_Titles">%s</definedName>`, i, xmlEsc(fmt.Sprintf("%s!$1:$%d", quoted, headRow)))
	}
	pkg.names = names.String()
	z := &sortedZip{w: w}
	if err := writePackage(z, &pkg); err != nil {
		return err
	}
	footer := `&L` + footerEscape(d.Footer) + `&C` + l.S(i18n.ReportXlsxFooter)
	for i := range d.Tables {
		pw, err := z.Create(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1))
		if err != nil {
			return err
		}
		writePeriodSheet(pw.(*bytes.Buffer), d, &d.Tables[i], i == 0, footer)
	}
	return z.Close()
}

// writePeriodSheet writes one table's worksheet: the title, the header fields, the table's
// title and column headings (rows 1..head, frozen and printed on every page), the rows and
// the total.
func writePeriodSheet(b *bytes.Buffer, d *PeriodDoc, t *PeriodTable, first bool, footer string) {
	headRow := 3 + len(d.Header)
	b.WriteString(xmlHead + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetPr><pageSetUpPr fitToPage="true"></pageSetUpPr></sheetPr><dimension ref="A1"></dimension><sheetViews><sheetView`)
	if first {
		b.WriteString(` tabSelected="true"`)
	}
	fmt.Fprintf(b, ` workbookViewId="0"><pane activePane="bottomLeft" state="frozen" topLeftCell="A%d" ySplit="%d"></pane></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"></sheetFormatPr>`, headRow+1, headRow)
	if len(t.Columns) > 0 {
		b.WriteString(`<cols>`)
		for c, col := range t.Columns {
			wd := colWidth(sheettext.Width(col.Label), 8, 40)
			if col.Money {
				wd = max(wd, 14)
			}
			for _, r := range t.Rows {
				if c < len(r) && !col.Money && !col.Count {
					wd = max(wd, colWidth(sheettext.Width(r[c].Text), 8, 40))
				}
			}
			fmt.Fprintf(b, `<col min="%d" max="%d" width="%s" customWidth="1"/>`, c+1, c+1, strconv.FormatFloat(wd, 'f', -1, 64))
		}
		b.WriteString(`</cols>`)
	}
	b.WriteString(`<sheetData>`)
	row := 0
	var num []byte
	var cells int
	start := func() {
		row++
		cells = 0
		b.WriteString(`<row r="`)
		b.WriteString(strconv.Itoa(row))
		b.WriteString(`">`)
	}
	ref := func(style int) {
		b.WriteString(`<c r="`)
		b.WriteString(colName(cells))
		b.WriteString(strconv.Itoa(row))
		b.WriteByte('"')
		if style != 0 {
			b.WriteString(` s="`)
			b.WriteString(strconv.Itoa(style))
			b.WriteByte('"')
		}
		cells++
	}
	text := func(s string, style int) {
		ref(style)
		s = sheettext.XMLSafe(s)
		b.WriteString(` t="inlineStr"><is><t`)
		if strings.TrimSpace(s) != s || strings.ContainsAny(s, "\n\t") {
			b.WriteString(` xml:space="preserve"`)
		}
		b.WriteByte('>')
		xml.EscapeText(b, []byte(s))
		b.WriteString(`</t></is></c>`)
	}
	number := func(v float64, style int) {
		ref(style)
		b.WriteString(`><v>`)
		num = strconv.AppendFloat(num[:0], v, 'f', -1, 64)
		b.Write(num)
		b.WriteString(`</v></c>`)
	}
	end := func() { b.WriteString(`</row>`) }
	start()
	text(d.Title, pxTitle)
	end()
	for _, h := range d.Header {
		start()
		text(h.Label, pxBold)
		text(h.Value, 0)
		end()
	}
	start()
	text(t.Title, pxBold)
	end()
	start()
	for _, col := range t.Columns {
		text(col.Label, pxHead)
	}
	end()
	line := func(r []PeriodCell, total bool) {
		start()
		for c, col := range t.Columns {
			if c >= len(r) {
				text("", 0)
				continue
			}
			v := r[c]
			switch {
			case v.Blank:
				text("", 0)
			case col.Money && total:
				number(yuanCell(v.N), pxMoneyBold)
			case col.Money:
				number(yuanCell(v.N), pxMoney)
			case col.Count:
				number(float64(v.N), 0)
			case total:
				text(v.Text, pxBold)
			case v.Alert:
				text(v.Text, pxRed)
			default:
				text(v.Text, 0)
			}
		}
		end()
	}
	for _, r := range t.Rows {
		line(r, false)
	}
	if len(t.Rows) == 0 && t.Empty != "" {
		start()
		text(t.Empty, 0)
		end()
	}
	if t.Total != nil {
		line(t.Total, true)
	}
	b.WriteString(`</sheetData><pageMargins left="0.5" right="0.5" top="0.5" bottom="0.5" header="0" footer="0"></pageMargins><pageSetup fitToHeight="0" fitToWidth="1" orientation="landscape" paperSize="9"></pageSetup><headerFooter><oddFooter>`)
	xml.EscapeText(b, []byte(footer))
	b.WriteString(`</oddFooter></headerFooter></worksheet>`)
}

// colName is the letters of the 0-based column c (A, B, …, Z, AA, …).
func colName(c int) string {
	s := ""
	for c++; c > 0; c = (c - 1) / 26 {
		s = string(rune('A'+(c-1)%26)) + s
	}
	return s
}

func xmlEsc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(sheettext.XMLSafe(s)))
	return b.String()
}
