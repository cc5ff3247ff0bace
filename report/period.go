package report

// The month-end close's reports (PERIOD.md "Outputs"): reports/<outlet>/outlet-period.xlsx
// and .pdf, reports/city-period.xlsx and .pdf. The period package decides what they show
// (a PeriodDoc: a header and titled tables, every label already translated); this file and
// period_pdf.go only lay a PeriodDoc out, as a workbook (one sheet per table) and as an A4
// landscape PDF.

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"settle/internal/i18n"
	"settle/internal/sheettext"
)

// PeriodDoc is one period report.
type PeriodDoc struct {
	Lang   string // zh or en
	Title  string
	Header []PeriodField // the lines under the title
	Tables []PeriodTable
	Footer string    // what every page belongs to (left of the page number)
	Stamp  time.Time // the documents' creation date
}

// PeriodField is one "label: value" of a report's header.
type PeriodField struct{ Label, Value string }

// PeriodTable is one titled table: a sheet of the workbook, a section of the PDF.
type PeriodTable struct {
	Title   string
	Sheet   string // the sheet's name (≤ 31 characters, no []:*?/\)
	Columns []PeriodColumn
	Rows    [][]PeriodCell
	Total   []PeriodCell // nil for none: drawn bold after the rows
	Empty   string       // shown when Rows is empty
}

// PeriodColumn is one column: its heading, whether it holds money, and its relative width.
type PeriodColumn struct {
	Label string
	Money bool
	Count bool
	Width float64
}

// PeriodCell is one value: Text for text columns, N (fen for money) for the others. Alert
// draws it red (a shortfall, an incomplete day, an overdue item).
type PeriodCell struct {
	Text  string
	N     int64
	Alert bool
	Blank bool // a number column left empty (a finding without an amount)
}

// Txt and Num make cells.
func Txt(s string) PeriodCell { return PeriodCell{Text: s} }
func Num(n int64) PeriodCell  { return PeriodCell{N: n} }

// cellText is a cell as the PDF prints it.
func (c PeriodCell) text(col PeriodColumn) string {
	switch {
	case c.Blank:
		return ""
	case col.Money:
		return formatFen(c.N)
	case col.Count:
		return fmt.Sprint(c.N)
	}
	return c.Text
}

// writePeriodXLSXExcelize writes d as a workbook through excelize. WritePeriodXLSX
// (period_xlsxw.go) writes the same workbook directly; this one makes the parts they share
// (styles, theme), once per language.
func writePeriodXLSXExcelize(w io.Writer, d *PeriodDoc) error {
	f := excelize.NewFile()
	defer f.Close()
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return &sortedZip{w: w} })
	at := d.Stamp.UTC().Format("2006-01-02T15:04:05Z")
	if err := f.SetDocProps(&excelize.DocProperties{Created: at, Modified: at, Creator: "settle", LastModifiedBy: "settle", Title: d.Title}); err != nil {
		return err
	}
	if d.Lang != "en" {
		if err := f.SetDefaultFont("等线"); err != nil {
			return err
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	title, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return err
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"D9E1F2"}, Pattern: 1},
		Border: []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}}})
	if err != nil {
		return err
	}
	fmtMoney := moneyFormat
	money, err := f.NewStyle(&excelize.Style{CustomNumFmt: &fmtMoney})
	if err != nil {
		return err
	}
	moneyBold, err := f.NewStyle(&excelize.Style{CustomNumFmt: &fmtMoney, Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	red, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "C00000"}})
	if err != nil {
		return err
	}
	l := i18n.Zh
	if d.Lang == "en" {
		l = i18n.En
	}
	headerText := d.Title
	for _, h := range d.Header {
		headerText += " " + h.Value
	}
	for i, t := range d.Tables {
		name := t.Sheet
		if i == 0 {
			if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		orient, size, fitW, fitH := "landscape", 9, 1, 0
		if err := f.SetPageLayout(name, &excelize.PageLayoutOptions{Size: &size, Orientation: &orient, FitToWidth: &fitW, FitToHeight: &fitH}); err != nil {
			return err
		}
		m := 0.5
		if err := f.SetPageMargins(name, &excelize.PageLayoutMarginsOptions{Left: &m, Right: &m, Top: &m, Bottom: &m}); err != nil {
			return err
		}
		if err := f.SetHeaderFooter(name, &excelize.HeaderFooterOptions{OddFooter: "&L" + footerEscape(d.Footer) + "&C" + l.S(i18n.ReportXlsxFooter)}); err != nil {
			return err
		}
		fit := true
		if err := f.SetSheetProps(name, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
			return err
		}
		// Rows 1..head: the title, the header fields, the table's title, the column headings.
		headRow := 3 + len(d.Header)
		quoted := "'" + strings.ReplaceAll(name, "'", "''") + "'"
		if err := f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("%s!$1:$%d", quoted, headRow), Scope: name}); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
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
			if err := sw.SetColWidth(c+1, c+1, wd); err != nil {
				return err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: headRow, TopLeftCell: fmt.Sprintf("A%d", headRow+1), ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		row := 1
		put := func(cells []any) error {
			cell, _ := excelize.CoordinatesToCellName(1, row)
			row++
			return sw.SetRow(cell, cells)
		}
		if err := put([]any{str(d.Title, title)}); err != nil {
			return err
		}
		for _, h := range d.Header {
			if err := put([]any{str(h.Label, bold), str(h.Value, 0)}); err != nil {
				return err
			}
		}
		if err := put([]any{str(t.Title, bold)}); err != nil {
			return err
		}
		heads := make([]any, len(t.Columns))
		for c, col := range t.Columns {
			heads[c] = str(col.Label, head)
		}
		if err := put(heads); err != nil {
			return err
		}
		line := func(r []PeriodCell, total bool) error {
			cells := make([]any, len(t.Columns))
			for c, col := range t.Columns {
				if c >= len(r) {
					cells[c] = str("", 0)
					continue
				}
				v := r[c]
				switch {
				case v.Blank:
					cells[c] = str("", 0)
				case col.Money && total:
					cells[c] = fen(v.N, moneyBold)
				case col.Money:
					cells[c] = fen(v.N, money)
				case col.Count:
					cells[c] = excelize.Cell{Value: v.N}
				case total:
					cells[c] = str(v.Text, bold)
				case v.Alert:
					cells[c] = str(v.Text, red)
				default:
					cells[c] = str(v.Text, 0)
				}
			}
			return put(cells)
		}
		for _, r := range t.Rows {
			if err := line(r, false); err != nil {
				return err
			}
		}
		if len(t.Rows) == 0 && t.Empty != "" {
			if err := put([]any{str(t.Empty, 0)}); err != nil {
				return err
			}
		}
		if t.Total != nil {
			if err := line(t.Total, true); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return f.Write(w)
}

// periodRunes are the characters d's PDF can show.
func (d *PeriodDoc) runes() []rune {
	set := map[rune]bool{}
	add := func(s string) {
		for _, r := range s {
			set[r] = true
		}
	}
	for r := rune(0x20); r < 0x7F; r++ {
		set[r] = true
	}
	add(pdfPunct)
	add(d.Title)
	add(d.Footer)
	l := i18n.Zh
	if d.Lang == "en" {
		l = i18n.En
	}
	add(l.S(i18n.ReportFooter))
	for _, h := range d.Header {
		add(h.Label)
		add(h.Value)
	}
	for _, t := range d.Tables {
		add(t.Title)
		add(t.Empty)
		for _, c := range t.Columns {
			add(c.Label)
		}
		for _, r := range t.Rows {
			for _, c := range r {
				add(c.Text)
			}
		}
		for _, c := range t.Total {
			add(c.Text)
		}
	}
	out := make([]rune, 0, len(set))
	for r := range set {
		if utf8.ValidRune(r) {
			out = append(out, r)
		}
	}
	return out
}
