package dialect

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"settle/feed"
)

// FuzzReadXLSX builds a real workbook from text (rows split at '\n', cells at '\t') with
// excelize, reads it with Read and checks the Table's invariants (checkTable). When every
// cell is plain text a CSV can hold unquoted (valid UTF-8, no ',', '"', '\r', control
// character or BOM), it also reads the same cells as a CSV and requires the same Table:
// header line, missing columns, rows, lines, cells and footer — the two readers of FEEDS.md
// must agree on what a sheet and a file with the same cells say. FuzzRead mutates workbook
// bytes; this target reaches the sheet contents, which byte mutations rarely do intact.
// The seed corpus is in testdata/fuzz/FuzzReadXLSX.
func FuzzReadXLSX(f *testing.F) {
	f.Add("太原分公司 本地缴费日报 2026-11-21\n账务日期\t地市\t营业厅编码\t工号\t流水号\t受理时间\t手机号码\t账户编码\t金额\t支付方式\n"+
		"2026-11-21\tTY\tTY0009\tTY0009-01\tT1\t2026-11-21 09:00:00\t13800000000\tA1\t1,234.50\t现金\n合计\t1\t\t\t\t\t\t\t1,234.50", uint8(feed.LocalPayment))
	f.Add("biz_date\tcity\toutlet_id\tcounter_id\tpay_method\tamount\n\n2026-11-21\tTY\tO1\tC1\tCASH\t 10 \n\t\t\n TOTAL \t1\t\t\t\t10", uint8(feed.Deposit))
	f.Add("title\n=HYPERLINK(\"http://x\")\t+1\t@SUM(A1)\t-1\nbiz_date\tcity\toutlet_id\tcounter_id\n𠮷\t😀", uint8(feed.Order))
	f.Add("a\tb\tc\td\n\n\n\nbiz_date\tcity\toutlet_id\tcounter_id\tbiz_date\tamount\n1\t2\t3\t4\t5\t6\t7\t8\t9", uint8(feed.Invoice))
	f.Fuzz(func(t *testing.T, text string, id uint8) {
		if len(text) > 64<<10 {
			return
		}
		fd := feed.Get(feed.ID(id % uint8(feed.Count)))
		// A line "#sheet NAME" starts a new sheet; a cell "#n<number>" is a number cell
		// with one of the display formats BOSS uses. The CSV the sheet is compared with
		// holds the number as its canonical text.
		sheets := []fuzzSheet{{name: "Sheet1"}}
		var csvLines []string
		nrows := 0
		for _, line := range strings.Split(text, "\n") {
			if name, ok := strings.CutPrefix(line, "#sheet "); ok {
				sheets = append(sheets, fuzzSheet{name: name})
				continue
			}
			cells := strings.Split(line, "\t")
			csvCells := make([]string, len(cells))
			for i, c := range cells {
				csvCells[i] = c
				if v, ok := fuzzNumber(c); ok {
					csvCells[i] = decimalText(strconv.FormatFloat(v, 'g', -1, 64))
				}
			}
			s := &sheets[len(sheets)-1]
			s.rows = append(s.rows, cells)
			csvLines = append(csvLines, strings.Join(csvCells, ","))
			nrows++
		}
		if nrows > 1000 || len(sheets) > 8 {
			return
		}
		data, ok := workbook(t, sheets)
		if !ok {
			return // excelize refused the cells (too long, too many) or a sheet name
		}
		tab, err := Read("fuzz.xlsx", data, true, fd)
		if err != nil {
			if csvSafe(text) {
				t.Fatalf("a workbook excelize wrote and read cannot be read: %v", err)
			}
			return
		}
		checkTable(t, tab, fd)
		if !csvSafe(text) || len(sheets) > 1 {
			return
		}
		csvTab, err := Read("fuzz.csv", []byte(strings.Join(csvLines, "\n")), false, fd)
		if err != nil {
			t.Fatal(err)
		}
		sameTable(t, tab, csvTab)
	})
}

type fuzzSheet struct {
	name string
	rows [][]string
}

// fuzzNumber reads a "#n<number>" cell.
func fuzzNumber(c string) (float64, bool) {
	s, ok := strings.CutPrefix(c, "#n")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	// excelize stores a float by 15 significant digits, truncated (28.929999999999996 as
	// 28.9299999999999): only numbers whose shortest text fits are compared with a CSV.
	mant, _, _ := strings.Cut(strconv.FormatFloat(math.Abs(v), 'e', -1, 64), "e")
	if len(strings.Replace(mant, ".", "", 1)) > 15 {
		return 0, false
	}
	return v, true
}

// fuzzFormats are the number formats a "#n" cell gets, by its length.
var fuzzFormats = []string{"", "#,##0", "0.00", "0.0", "#,##0.00", "0", "@"}

// workbook writes sheets of text cells ("#n" cells as numbers) into a new workbook; ok is
// false when excelize refuses them.
func workbook(t *testing.T, sheets []fuzzSheet) (data []byte, ok bool) {
	x := excelize.NewFile()
	defer x.Close()
	styles := map[string]int{}
	for i, sh := range sheets {
		if i == 0 {
			if err := x.SetSheetName("Sheet1", sh.name); err != nil {
				return nil, false
			}
		} else if _, err := x.NewSheet(sh.name); err != nil {
			return nil, false
		}
		if idx, err := x.GetSheetIndex(sh.name); err != nil || idx < 0 || len(x.GetSheetList()) != i+1 {
			return nil, false // a name excelize changed or took twice
		}
		for r, cells := range sh.rows {
			vals := make([]any, len(cells))
			for i, c := range cells {
				vals[i] = c
				if v, ok := fuzzNumber(c); ok {
					vals[i] = v
				}
			}
			ref, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := x.SetSheetRow(sh.name, ref, &vals); err != nil {
				return nil, false
			}
			for i, c := range cells {
				if _, ok := fuzzNumber(c); !ok {
					continue
				}
				format := fuzzFormats[len(c)%len(fuzzFormats)]
				if format == "" {
					continue
				}
				st, ok := styles[format]
				if !ok {
					var err error
					if st, err = x.NewStyle(&excelize.Style{CustomNumFmt: &format}); err != nil {
						return nil, false
					}
					styles[format] = st
				}
				cell, _ := excelize.CoordinatesToCellName(i+1, r+1)
				if err := x.SetCellStyle(sh.name, cell, cell, st); err != nil {
					return nil, false
				}
			}
		}
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

// csvSafe reports whether text, with tabs as separators, is also a CSV with the same cells:
// valid UTF-8 without quotes, commas, carriage returns, other control characters, a BOM or
// what XML 1.0 cannot hold, and no cell over Excel's limit.
func csvSafe(text string) bool {
	if !utf8.ValidString(text) || strings.HasPrefix(text, "\uFEFF") {
		return false
	}
	for _, cell := range strings.FieldsFunc(text, func(r rune) bool { return r == '\t' || r == '\n' }) {
		if utf8.RuneCountInString(cell) > 32767/2 {
			return false
		}
	}
	for _, r := range text {
		switch {
		case r == '\t' || r == '\n':
		case r < 0x20 || r == 0x7f || r == ',' || r == '"':
			return false
		case r >= 0x80 && r < 0xa0, r == 0xFFFE, r == 0xFFFF:
			return false
		}
	}
	return true
}

// sameTable fails the test unless the XLSX Table x and the CSV Table c agree.
func sameTable(t *testing.T, x, c *Table) {
	t.Helper()
	if x.HeaderLine != c.HeaderLine || strings.Join(x.Missing, ",") != strings.Join(c.Missing, ",") || x.Len() != c.Len() {
		t.Fatalf("xlsx: header line %d, missing %v, %d rows; csv: header line %d, missing %v, %d rows",
			x.HeaderLine, x.Missing, x.Len(), c.HeaderLine, c.Missing, c.Len())
	}
	for i := range x.Len() {
		if x.Line(i) != c.Line(i) {
			t.Fatalf("row %d: xlsx line %d, csv line %d", i, x.Line(i), c.Line(i))
		}
		for col := 0; col < x.ncol; col++ {
			if x.Cell(i, col) != c.Cell(i, col) {
				t.Fatalf("row %d column %d: xlsx %q, csv %q", i, col, x.Cell(i, col), c.Cell(i, col))
			}
		}
		if xr, cr := strings.TrimRight(x.Raw(i), ", "), strings.TrimRight(c.Raw(i), ", "); xr != cr {
			t.Fatalf("row %d: xlsx raw %q, csv raw %q", i, xr, cr)
		}
	}
	switch {
	case (x.Footer == nil) != (c.Footer == nil):
		t.Fatalf("footer: xlsx %+v, csv %+v", x.Footer, c.Footer)
	case x.Footer != nil && (x.Footer.Line != c.Footer.Line || x.Footer.Count != c.Footer.Count || x.Footer.Amount != c.Footer.Amount):
		t.Fatalf("footer: xlsx %+v, csv %+v", *x.Footer, *c.Footer)
	}
}
