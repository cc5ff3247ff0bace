package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// A period table long enough for several pages: every page has the column headings and its
// "第 X 页 / 共 Y 页", the total row is there, and the workbook keeps ids as strings.
func TestPeriodDocPages(t *testing.T) {
	d := &PeriodDoc{
		Lang: "zh", Title: "营业厅月结报表", Footer: "TY · TY0001",
		Header: []PeriodField{{Label: "账期", Value: "2026-11-01 – 2026-11-30"}},
		Stamp:  time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
	}
	tb := PeriodTable{Title: "逐日明细", Sheet: "逐日明细", Columns: []PeriodColumn{
		{Label: "柜台编号", Width: 2}, {Label: "净额列", Money: true, Width: 2}, {Label: "天数", Count: true, Width: 1}}}
	var sum int64
	for i := range 150 {
		v := int64(i*1001 - 30000)
		sum += v
		tb.Rows = append(tb.Rows, []PeriodCell{Txt(fmt.Sprintf("0%03d", i)), Num(v), Num(int64(i))})
	}
	tb.Rows = append(tb.Rows, []PeriodCell{Txt("=HYPERLINK(\"x\")"), Num(0), Num(0)})
	tb.Total = []PeriodCell{Txt("合计"), Num(sum), {Blank: true}}
	d.Tables = []PeriodTable{tb}
	dir := t.TempDir()
	var pdf bytes.Buffer
	if err := WritePeriodPDF(&pdf, d); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p.pdf")
	if err := os.WriteFile(path, pdf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, path, "-layout")
	pages := regexp.MustCompile(`第 (\d+) 页 / 共 (\d+) 页`).FindAllStringSubmatch(text, -1)
	if len(pages) < 3 {
		t.Fatalf("%d page footers, want 3 or more:\n%s", len(pages), text)
	}
	for i, p := range pages {
		if p[1] != fmt.Sprint(i+1) || p[2] != fmt.Sprint(len(pages)) {
			t.Errorf("footer %d says %s / %s", i+1, p[1], p[2])
		}
	}
	if n := strings.Count(text, "净额列"); n != len(pages) {
		t.Errorf("the column headings appear %d times on %d pages", n, len(pages))
	}
	if !strings.Contains(text, formatFen(sum)) {
		t.Errorf("no total %s in the PDF", formatFen(sum))
	}
	var xl bytes.Buffer
	if err := WritePeriodXLSX(&xl, d); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&xl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Rows: title, 1 header field, table title, headings, then the data from row 5.
	if v, _ := f.GetCellValue("逐日明细", "A5"); v != "0000" {
		t.Errorf("A5 = %q, want the id 0000 kept as text", v)
	}
	last := 5 + len(tb.Rows)
	if formula, _ := f.GetCellFormula("逐日明细", fmt.Sprintf("A%d", last-1)); formula != "" {
		t.Errorf("feed text became a formula: %q", formula)
	}
	if v, _ := f.GetCellValue("逐日明细", fmt.Sprintf("B%d", last), excelize.Options{RawCellValue: true}); v != fmt.Sprint(float64(sum)/100) {
		t.Errorf("total cell %q, want %v", v, float64(sum)/100)
	}
}
