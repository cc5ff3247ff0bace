package dialect

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"settle/engine/feed"
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
		var rows [][]string
		for _, line := range strings.Split(text, "\n") {
			rows = append(rows, strings.Split(line, "\t"))
		}
		if len(rows) > 1000 {
			return
		}
		data, ok := workbook(t, rows)
		if !ok {
			return // excelize refused the cells (too long, too many)
		}
		tab, err := Read("fuzz.xlsx", data, true, fd)
		if err != nil {
			if csvSafe(text) {
				t.Fatalf("a workbook excelize wrote and read cannot be read: %v", err)
			}
			return
		}
		checkTable(t, tab, fd)
		if !csvSafe(text) {
			return
		}
		csvTab, err := Read("fuzz.csv", []byte(strings.ReplaceAll(text, "\t", ",")), false, fd)
		if err != nil {
			t.Fatal(err)
		}
		sameTable(t, tab, csvTab)
	})
}

// workbook writes rows of text cells into the first sheet of a new workbook; ok is false
// when excelize refuses them.
func workbook(t *testing.T, rows [][]string) (data []byte, ok bool) {
	x := excelize.NewFile()
	defer x.Close()
	for r, cells := range rows {
		vals := make([]any, len(cells))
		for i, c := range cells {
			vals[i] = c
		}
		ref, _ := excelize.CoordinatesToCellName(1, r+1)
		if err := x.SetSheetRow("Sheet1", ref, &vals); err != nil {
			return nil, false
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
