package report

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestPeriodXLSXAsExcelize: the workbook written directly reads back, through excelize,
// the same as the one excelize writes: sheets, every cell's raw value, type, style (its
// font, fill, border and number format), the print titles, page layout, margins, footer,
// frozen panes and column widths — in both languages.
func TestPeriodXLSXAsExcelize(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		d := &PeriodDoc{
			Lang: lang, Title: "营业厅月结报表 <&>", Footer: "TY · TY0001 & co",
			Header: []PeriodField{{Label: "账期", Value: "2026-11-01 – 2026-11-30"}, {Label: "状态", Value: " padded "}},
			Stamp:  time.Date(2026, 12, 1, 3, 4, 5, 0, time.UTC),
		}
		a := PeriodTable{Title: "柜台汇总", Sheet: "柜台's", Columns: []PeriodColumn{
			{Label: "柜台编号", Width: 2}, {Label: "净额", Money: true, Width: 2}, {Label: "天数", Count: true, Width: 1}, {Label: "说明", Width: 4}}}
		for i := range 40 {
			a.Rows = append(a.Rows, []PeriodCell{Txt(fmt.Sprintf("0%03d", i)), Num(int64(i*1001 - 30000)), Num(int64(i)),
				{Text: "=HYPERLINK(\"x\")\x01 long text that widens the column beyond its label", Alert: i%3 == 0}})
		}
		a.Rows = append(a.Rows, []PeriodCell{Txt("short row")})
		a.Total = []PeriodCell{Txt("合计"), Num(-123456), {Blank: true}, Txt("")}
		b := PeriodTable{Title: "未结事项（按账龄）", Sheet: "未结事项", Empty: "无", Columns: []PeriodColumn{{Label: "x"}, {Label: "y", Money: true}}}
		d.Tables = []PeriodTable{a, b}
		var want, got bytes.Buffer
		if err := writePeriodXLSXExcelize(&want, d); err != nil {
			t.Fatal(err)
		}
		if err := WritePeriodXLSX(&got, d); err != nil {
			t.Fatal(err)
		}
		wf, err := excelize.OpenReader(&want)
		if err != nil {
			t.Fatal(err)
		}
		gf, err := excelize.OpenReader(&got)
		if err != nil {
			t.Fatalf("%s: the direct workbook does not open: %v", lang, err)
		}
		if w, g := wf.GetSheetList(), gf.GetSheetList(); !slices.Equal(w, g) {
			t.Fatalf("%s: sheets %q, want %q", lang, g, w)
		}
		if w, g := fmt.Sprint(wf.GetDefinedName()), fmt.Sprint(gf.GetDefinedName()); w != g {
			t.Errorf("%s: defined names %s, want %s", lang, g, w)
		}
		wp, _ := wf.GetDocProps()
		gp, _ := gf.GetDocProps()
		if wp.Title != gp.Title || wp.Created != gp.Created || wp.Modified != gp.Modified || wp.Creator != gp.Creator {
			t.Errorf("%s: doc props %+v, want %+v", lang, gp, wp)
		}
		for _, sh := range wf.GetSheetList() {
			same := func(what string, w, g any, err1, err2 error) {
				t.Helper()
				if ws, gs := fmt.Sprintf("%+v %v", deref(w), err1), fmt.Sprintf("%+v %v", deref(g), err2); ws != gs {
					t.Errorf("%s %s: %s %s, want %s", lang, sh, what, gs, ws)
				}
			}
			wl, e1 := wf.GetPageLayout(sh)
			gl, e2 := gf.GetPageLayout(sh)
			same("page layout", derefLayout(wl), derefLayout(gl), e1, e2)
			wm, e1 := wf.GetPageMargins(sh)
			gm, e2 := gf.GetPageMargins(sh)
			same("margins", *wm.Left, *gm.Left, e1, e2)
			wh, e1 := wf.GetHeaderFooter(sh)
			gh, e2 := gf.GetHeaderFooter(sh)
			same("footer", wh.OddFooter, gh.OddFooter, e1, e2)
			wpn, e1 := wf.GetPanes(sh)
			gpn, e2 := gf.GetPanes(sh)
			same("panes", fmt.Sprint(wpn.Freeze, wpn.YSplit, wpn.TopLeftCell), fmt.Sprint(gpn.Freeze, gpn.YSplit, gpn.TopLeftCell), e1, e2)
			wsp, e1 := wf.GetSheetProps(sh)
			gsp, e2 := gf.GetSheetProps(sh)
			same("fit to page", *wsp.FitToPage, *gsp.FitToPage, e1, e2)
			for c := range 4 {
				col, _ := excelize.ColumnNumberToName(c + 1)
				ww, e1 := wf.GetColWidth(sh, col)
				gw, e2 := gf.GetColWidth(sh, col)
				same("width of "+col, ww, gw, e1, e2)
			}
			wr, e1 := wf.GetRows(sh, excelize.Options{RawCellValue: true})
			gr, e2 := gf.GetRows(sh, excelize.Options{RawCellValue: true})
			same("rows", wr, gr, e1, e2)
			for r := range len(wr) {
				for c := range 4 {
					cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
					wt, e1 := wf.GetCellType(sh, cell)
					gt, e2 := gf.GetCellType(sh, cell)
					same(cell+" type", wt, gt, e1, e2)
					ws, e1 := wf.GetCellStyle(sh, cell)
					gs, e2 := gf.GetCellStyle(sh, cell)
					wst, _ := wf.GetStyle(ws)
					gst, _ := gf.GetStyle(gs)
					same(cell+" style", styleText(wst), styleText(gst), e1, e2)
					wfm, e1 := wf.GetCellFormula(sh, cell)
					gfm, e2 := gf.GetCellFormula(sh, cell)
					same(cell+" formula", wfm, gfm, e1, e2)
				}
			}
		}
	}
}

func deref(v any) any { return v }

func derefLayout(l excelize.PageLayoutOptions) string {
	s := ""
	if l.Size != nil {
		s += fmt.Sprint("size ", *l.Size)
	}
	if l.Orientation != nil {
		s += " " + *l.Orientation
	}
	if l.FitToWidth != nil {
		s += fmt.Sprint(" w ", *l.FitToWidth)
	}
	if l.FitToHeight != nil {
		s += fmt.Sprint(" h ", *l.FitToHeight)
	}
	return s
}

func styleText(s *excelize.Style) string {
	if s == nil {
		return "nil"
	}
	out := fmt.Sprintf("fill %+v border %+v numfmt %d", s.Fill, s.Border, s.NumFmt)
	if s.Font != nil {
		f := *s.Font
		if f.ColorTheme != nil {
			out += fmt.Sprint(" theme colour ", *f.ColorTheme)
			f.ColorTheme = nil
		}
		out += fmt.Sprintf(" font %+v", f)
	}
	if s.CustomNumFmt != nil {
		out += " custom " + *s.CustomNumFmt
	}
	return out
}
