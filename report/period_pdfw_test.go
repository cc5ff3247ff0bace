package report

import (
	"bytes"
	"testing"
	"time"
)

// TestPeriodReportsDeterministic: the same PeriodDoc gives the same PDF and workbook bytes,
// also after documents with other characters were drawn (the shared fonts are cut per
// character set, never per order of use).
func TestPeriodReportsDeterministic(t *testing.T) {
	doc := func(extra string) *PeriodDoc {
		return &PeriodDoc{Lang: "zh", Title: "营业厅月结报表" + extra, Footer: "TY · TY0001",
			Header: []PeriodField{{Label: "账期", Value: "2026-11-01 – 2026-11-30"}},
			Stamp:  time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
			Tables: []PeriodTable{{Title: "柜台汇总", Sheet: "柜台汇总", Columns: []PeriodColumn{{Label: "柜台"}, {Label: "净额", Money: true}},
				Rows: [][]PeriodCell{{Txt("TY0001-01"), Num(-12345)}, {Txt("TY0001-02"), Num(99)}}, Total: []PeriodCell{Txt("合计"), Num(-12246)}}}}
	}
	render := func(d *PeriodDoc) (pdf, xlsx []byte) {
		var p, x bytes.Buffer
		if err := WritePeriodPDF(&p, d); err != nil {
			t.Fatal(err)
		}
		if err := WritePeriodXLSX(&x, d); err != nil {
			t.Fatal(err)
		}
		return p.Bytes(), x.Bytes()
	}
	p1, x1 := render(doc(""))
	render(doc(" 龘鱻"))
	p2, x2 := render(doc(""))
	if !bytes.Equal(p1, p2) {
		t.Error("the PDF differs between two renders of one document")
	}
	if !bytes.Equal(x1, x2) {
		t.Error("the workbook differs between two renders of one document")
	}
	if !bytes.HasPrefix(p1, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(p1, []byte("%%EOF\n")) {
		t.Error("not a whole PDF")
	}
}
