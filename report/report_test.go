package report

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/xuri/excelize/v2"

	"settle/engine"
)

// render renders the test day into a fresh directory and returns it.
func render(t *testing.T, opts Options) string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res := testResult(t, mem)
	defer res.Release()
	dir := t.TempDir()
	if err := Render(context.Background(), res, dirCreator(dir), opts); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return dir
}

var (
	zhOnce sync.Once
	zhDir  string
)

// zhRender is the Chinese render of the test day, shared by the tests that only read it.
func zhRender(t *testing.T) string {
	zhOnce.Do(func() {
		dir, err := os.MkdirTemp("", "settle-report-")
		if err != nil {
			t.Fatal(err)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		res := testResult(t, mem)
		if err := Render(context.Background(), res, dirCreator(dir), testOptions("zh")); err != nil {
			t.Fatalf("Render: %v", err)
		}
		res.Release()
		mem.AssertSize(t, 0)
		zhDir = dir
	})
	if zhDir == "" {
		t.Fatal("the shared render failed")
	}
	return zhDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if zhDir != "" {
		os.RemoveAll(zhDir)
	}
	os.Exit(code)
}

func openXLSX(t *testing.T, path string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// findRow returns the 1-based row whose column col (1-based) holds text, searching from row from.
func findRow(t *testing.T, f *excelize.File, sheet string, col int, text string, from int) int {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for i := from - 1; i < len(rows); i++ {
		if len(rows[i]) >= col && rows[i][col-1] == text {
			return i + 1
		}
	}
	t.Fatalf("%s: no row with %q in column %d", sheet, text, col)
	return 0
}

// wantMoney checks a cell holds exactly the number want (as stored) with the money format. A
// cell without a type attribute is a number (the OOXML default), which is how excelize
// streams numbers.
func wantMoney(t *testing.T, f *excelize.File, sheet string, col, row int, want string) {
	t.Helper()
	cell, _ := excelize.CoordinatesToCellName(col, row)
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Errorf("%s!%s: cell type %v, want a number", sheet, cell, typ)
	}
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if raw != want {
		t.Errorf("%s!%s = %q, want %q", sheet, cell, raw, want)
	}
	sid, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(sid)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt == nil || *st.CustomNumFmt != moneyFormat {
		t.Errorf("%s!%s: number format %v, want %q", sheet, cell, st.CustomNumFmt, moneyFormat)
	}
}

// wantText checks a cell holds the string want, stored as a string, with no formula.
func wantText(t *testing.T, f *excelize.File, sheet, cell, want string) {
	t.Helper()
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
		t.Errorf("%s!%s: cell type %v, want a string", sheet, cell, typ)
	}
	got, _ := f.GetCellValue(sheet, cell)
	if got != want {
		t.Errorf("%s!%s = %q, want %q", sheet, cell, got, want)
	}
	if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
		t.Errorf("%s!%s has formula %q", sheet, cell, formula)
	}
}

func TestCounterXLSX(t *testing.T) {
	dir := zhRender(t)
	f := openXLSX(t, filepath.Join(dir, "reports", "TY0001", "TY0001-01.xlsx"))

	wantSheets := []string{"汇总", "异常", "业务办理日报", "购机日报", "冲退日报", "交费日报", "本地缴费日报", "异地缴费日报", "商务卡日报", "发票日报", "解款日报"}
	if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
		t.Errorf("sheets = %q, want %q", got, wantSheets)
	}

	const sum = "汇总"
	for cell, want := range map[string]string{"B2": "太原", "F2": "TY0001", "B3": "TY0001-01", "F3": "2026-11-21",
		"B4": "20261122T080000-ab12", "F4": "2026-11-22 08:00:00 +08:00", "B5": "/data/boss/2026-11-21", "F5": "完整 COMPLETE"} {
		wantText(t, f, sum, cell, want)
	}
	// Revenue: categories are rows (gross, reversed, net), pay methods columns C.. (CASH,
	// POS, WECHAT, ALIPAY, CHEQUE), then the row total in H.
	r := findRow(t, f, sum, 1, "业务费", 1)
	wantText(t, f, sum, "B"+strconv.Itoa(r), "收入")
	wantMoney(t, f, sum, 3, r, "1234.5")
	wantMoney(t, f, sum, 8, r, "1234.5")
	wantMoney(t, f, sum, 3, r+2, "1234.5")
	r = findRow(t, f, sum, 1, "本地缴费", 1)
	wantMoney(t, f, sum, 5, r, "500")
	wantMoney(t, f, sum, 5, r+1, "12")
	wantMoney(t, f, sum, 5, r+2, "488")
	r = findRow(t, f, sum, 1, "异地缴费(代收)", 1)
	wantMoney(t, f, sum, 3, r+1, "150")
	wantMoney(t, f, sum, 3, r+2, "-150")
	r = findRow(t, f, sum, 1, "合计", r)
	wantMoney(t, f, sum, 3, r, "1234.5")   // gross, CASH
	wantMoney(t, f, sum, 8, r, "4733.5")   // gross, all
	wantMoney(t, f, sum, 8, r+1, "162")    // reversed, all
	wantMoney(t, f, sum, 3, r+2, "1084.5") // net, CASH
	wantMoney(t, f, sum, 8, r+2, "4571.5") // net, all
	// Deposit check: method, (merged), expected, deposited, variance, result.
	r = findRow(t, f, sum, 1, "现金", 1)
	wantMoney(t, f, sum, 3, r, "1084.5")
	wantMoney(t, f, sum, 4, r, "1050")
	wantMoney(t, f, sum, 5, r, "-34.5")
	wantText(t, f, sum, "F"+strconv.Itoa(r), "短款")
	wantMoney(t, f, sum, 5, r+1, "1")
	wantText(t, f, sum, "F"+strconv.Itoa(r+1), "长款")
	r = findRow(t, f, sum, 1, "合计", r)
	wantMoney(t, f, sum, 3, r, "4571.5")
	wantMoney(t, f, sum, 4, r, "4538")
	// Sign-off.
	r = findRow(t, f, sum, 1, "营业员：", r)
	wantText(t, f, sum, "D"+strconv.Itoa(r), "复核人：")
	wantText(t, f, sum, "G"+strconv.Itoa(r), "日期：")

	// Exceptions: ERRORs first, descriptions in Chinese, text kept as text.
	const exc = "异常"
	rows, _ := f.GetRows(exc)
	if len(rows) != 6 {
		t.Fatalf("%s: %d rows, want header + 5", exc, len(rows))
	}
	wantHead := []string{"代码", "说明", "级别", "报表", "流水号", "金额", "详情", "来源", "处理提示"}
	if !slices.Equal(rows[0], wantHead) {
		t.Errorf("%s header = %q, want %q", exc, rows[0], wantHead)
	}
	var codes []string
	for _, row := range rows[1:] {
		codes = append(codes, row[0])
	}
	wantCodes := []string{"DEPOSIT_SHORT", "REFUND_NOT_APPROVED", "SUMMARY_MISMATCH", "DUPLICATE_TXN", "INVOICE_GAP"}
	if !slices.Equal(codes, wantCodes) {
		t.Errorf("exception codes = %q, want %q", codes, wantCodes)
	}
	wantText(t, f, exc, "B3", "大额退费未经他人审批")
	wantText(t, f, exc, "C3", "错误")
	wantText(t, f, exc, "D3", "冲退日报")
	wantText(t, f, exc, "E3", "R001")
	wantMoney(t, f, exc, 6, 3, "150")
	wantText(t, f, exc, "G3", formulaText)
	wantMoney(t, f, exc, 6, 2, "-34.5")
	wantText(t, f, exc, "E5", "+1")
	wantText(t, f, exc, "G5", "-2")
	wantText(t, f, exc, "G6", "@x 发票代码 1100 缺号 00000012–00000014 吉𠮷 😀 bell\uFFFD")
	if v, _ := f.GetCellValue(exc, "F5"); v != "" {
		t.Errorf("%s!F5 (no amount) = %q, want empty", exc, v)
	}

	// Detail sheets: the counter's rows, Chinese headers and enumeration names, money as numbers.
	rows, _ = f.GetRows("冲退日报")
	wantHead = []string{"流水号", "受理时间", "原流水号", "原账务日期", "原业务类型", "冲退类型", "金额", "支付方式", "审批工号", "原因", "来源", "行号"}
	if len(rows) != 2 || !slices.Equal(rows[0], wantHead) {
		t.Fatalf("冲退日报 = %q, want header %q and one row", rows, wantHead)
	}
	wantText(t, f, "冲退日报", "J2", formulaText)
	wantText(t, f, "冲退日报", "E2", "异地缴费")
	wantText(t, f, "冲退日报", "F2", "退费")
	wantMoney(t, f, "冲退日报", 7, 2, "150")
	if got, _ := f.GetCellValue("冲退日报", "B2"); got != "2026-11-21 15:00:00" {
		t.Errorf("冲退日报!B2 = %q, want 2026-11-21 15:00:00", got)
	}
	if got, _ := f.GetCellValue("冲退日报", "D2"); got != "2026-11-20" {
		t.Errorf("冲退日报!D2 = %q, want 2026-11-20", got)
	}
	rows, _ = f.GetRows("业务办理日报")
	if len(rows) != 4 { // other counters' rows stay out
		t.Errorf("业务办理日报: %d rows, want header + 3", len(rows))
	}
	wantText(t, f, "业务办理日报", "D3", "+8613900000002")
	wantText(t, f, "业务办理日报", "E3", "补换卡")
	wantMoney(t, f, "业务办理日报", 6, 3, "234.5")
	wantMoney(t, f, "业务办理日报", 6, 4, "0")
	if v, _ := f.GetCellValue("业务办理日报", "G4"); v != "" {
		t.Errorf("业务办理日报!G4 (null pay method) = %q, want empty", v)
	}
	wantText(t, f, "本地缴费日报", "D2", "@A990009001")
	wantText(t, f, "解款日报", "C4", "-2")
	rows, _ = f.GetRows("异地缴费日报")
	if len(rows) != 1 {
		t.Errorf("异地缴费日报: %d rows, want the header only", len(rows))
	}

	// Sheet settings, read from the package.
	xml := sheetXML(t, filepath.Join(dir, "reports", "TY0001", "TY0001-01.xlsx"))
	for name, s := range xml {
		for _, want := range []string{`paperSize="9"`, `fitToWidth="1"`, `fitToHeight="0"`, `fitToPage="true"`, `state="frozen"`, `第 &amp;P 页 / 共 &amp;N 页`} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: no %s", name, want)
			}
		}
	}
	if s := xml["xl/worksheets/sheet5.xml"]; !strings.Contains(s, `<autoFilter ref="$A$1:$L$2"`) {
		t.Errorf("冲退日报 (sheet5): no autofilter A1:L2")
	}
	if s := xml["xl/worksheets/sheet2.xml"]; !strings.Contains(s, `orientation="landscape"`) {
		t.Errorf("异常 (sheet2): not landscape")
	}
}

func TestIncompleteXLSX(t *testing.T) {
	dir := zhRender(t)
	f := openXLSX(t, filepath.Join(dir, "reports", "TY0001", "TY0001-02.xlsx"))
	wantText(t, f, "汇总", "F5", "未完成 INCOMPLETE")
	r := findRow(t, f, "汇总", 1, "未完成 INCOMPLETE", 6)
	sid, _ := f.GetCellStyle("汇总", "A"+strconv.Itoa(r))
	st, _ := f.GetStyle(sid)
	if st.Fill.Type != "pattern" || len(st.Fill.Color) == 0 || st.Fill.Color[0] != "C00000" || st.Font == nil || st.Font.Size < 16 {
		t.Errorf("banner style = fill %+v font %+v, want big text on red", st.Fill, st.Font)
	}
	wantText(t, f, "汇总", "A"+strconv.Itoa(r+2), "FEED_MISSING 报表缺失（解款日报）：no deposit file for TY0001-02")
	// A control character in feed data cannot reach the XML.
	wantText(t, f, "本地缴费日报", "D2", "A990009002\uFFFD")
}

// sheetXML returns the worksheets of an XLSX package by part name.
func sheetXML(t *testing.T, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[zf.Name] = string(b)
	}
	return out
}

var formulaElement = regexp.MustCompile(`<f[ >/]`)

// TestNoFormulas reads every workbook of the run, part by part and cell by cell.
func TestNoFormulas(t *testing.T) {
	dir := zhRender(t)
	var books []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(p, ".xlsx") {
			books = append(books, p)
		}
		return err
	})
	if len(books) != 6 {
		t.Errorf("%d workbooks, want 6: %q", len(books), books)
	}
	for _, p := range books {
		for part, s := range sheetXML(t, p) {
			if formulaElement.MatchString(s) {
				t.Errorf("%s %s: has a formula", p, part)
			}
		}
		f := openXLSX(t, p)
		for _, sheet := range f.GetSheetList() {
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			for r, row := range rows {
				for c := range row {
					cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
					if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
						t.Errorf("%s %s!%s: formula %q", p, sheet, cell, formula)
					}
				}
			}
		}
	}
}

func TestRollups(t *testing.T) {
	dir := zhRender(t)
	f := openXLSX(t, filepath.Join(dir, "reports", "TY0001", "outlet.xlsx"))
	if got := f.GetSheetList(); !slices.Equal(got, []string{"柜台"}) {
		t.Errorf("outlet sheets = %q", got)
	}
	rows, _ := f.GetRows("柜台")
	// Title, group header, column header, two counters, totals.
	if len(rows) != 6 {
		t.Fatalf("outlet roll-up: %d rows, want 6: %q", len(rows), rows)
	}
	wantHead := []string{"业务费", "购机款", "本地缴费", "异地缴费(代收)", "商务卡", "合计", "应解金额", "实解金额", "长短款"}
	if !slices.Equal(rows[2][4:13], wantHead) {
		t.Errorf("column header = %q", rows[2])
	}
	if !slices.Equal(rows[1][:5], []string{"地市", "营业厅", "柜台(工号)", "状态", "净额"}) {
		t.Errorf("group header = %q", rows[1])
	}
	wantText(t, f, "柜台", "C4", "TY0001-01")
	wantText(t, f, "柜台", "D4", "完整 COMPLETE")
	wantText(t, f, "柜台", "D5", "未完成 INCOMPLETE")
	wantMoney(t, f, "柜台", 5, 4, "1234.5")  // net ORDER_FEE
	wantMoney(t, f, "柜台", 8, 4, "-150")    // net REMOTE_BILL
	wantMoney(t, f, "柜台", 11, 4, "1084.5") // CASH expected
	wantMoney(t, f, "柜台", 12, 4, "1050")   // CASH deposited
	wantMoney(t, f, "柜台", 13, 4, "-34.5")  // CASH variance
	wantText(t, f, "柜台", "A6", "合计")
	wantMoney(t, f, "柜台", 10, 6, "4671.5") // net, both counters
	wantMoney(t, f, "柜台", 13, 6, "-134.5") // CASH variance, both counters
	// Exception counts by severity: the last two columns.
	last := len(rows[3])
	if rows[3][last-2] != "3" || rows[3][last-1] != "2" || rows[4][last-2] != "1" || rows[5][last-2] != "4" {
		t.Errorf("exception counts: %q %q %q", rows[3][last-2:], rows[4][last-2:], rows[5][last-2:])
	}

	c := openXLSX(t, filepath.Join(dir, "reports", "city.xlsx"))
	if got := c.GetSheetList(); !slices.Equal(got, []string{"营业厅", "柜台"}) {
		t.Errorf("city sheets = %q", got)
	}
	rows, _ = c.GetRows("营业厅")
	if len(rows) != 6 || rows[3][1] != "TY0001" || rows[4][1] != "TY0002" || rows[5][0] != "合计" {
		t.Fatalf("city outlets = %q", rows)
	}
	if rows[3][2] != "2" || rows[3][3] != "1" || rows[5][2] != "3" {
		t.Errorf("counters / incomplete = %q %q", rows[3][:4], rows[5][:4])
	}
	wantMoney(t, c, "营业厅", 9, 5, "1000") // TY0002's CARD net
	wantMoney(t, c, "营业厅", 10, 6, "5671.5")
	rows, _ = c.GetRows("柜台")
	if len(rows) != 7 || rows[6][0] != "合计" {
		t.Errorf("city counters: %q", rows)
	}
}

// pdfText is the text pdftotext extracts. Without pdftotext the test is skipped, except in
// CI, where it must be installed.
func pdfText(t *testing.T, path string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext not found: CI must install poppler-utils")
		}
		t.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}
	out, err := exec.Command(bin, append(append([]string{"-enc", "UTF-8"}, args...), path, "-")...).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext %s: %v\n%s", path, err, out)
	}
	return string(out)
}

var pageFooter = regexp.MustCompile(`第 (\d+) 页 / 共 (\d+) 页`)

func TestCounterPDF(t *testing.T) {
	dir := zhRender(t)
	text := pdfText(t, filepath.Join(dir, "reports", "TY0001", "TY0001-01.pdf"))
	for _, want := range []string{
		"柜台日结算报告", "TY0001-01", "TY0001", "2026-11-21", "20261122T080000-ab12", "完整 COMPLETE",
		"一、营收", "业务费", "异地缴费(代收)", "现金", "银行卡", "微信",
		"1,234.50", "2,999.00", "4,733.50", "4,571.50", "-150.00", "1,084.50", "1,050.00", "-34.50", "短款", "长款",
		"DEPOSIT_SHORT", "REFUND_NOT_APPROVED", "SUMMARY_MISMATCH", "DUPLICATE_TXN", "INVOICE_GAP",
		"短款：解款少于应解金额", "大额退费未经他人审批", formulaText, "reversal.csv:2",
		"共 5 条：错误 3 条，警告 2 条。",
		"营业员", "复核人", "日期",
		// The city by its name; what to do about each code found.
		"太原 · TY0001 · TY0001-01", "处理提示", "查明短款原因", "大额退费须他人审批",
		// Beyond U+FFFF, no glyph, a control character: replaced visibly.
		"吉□ □ bell□",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext: no %q", want)
		}
	}
	if strings.Contains(text, "INCOMPLETE") {
		t.Error("a complete counter's PDF says INCOMPLETE")
	}
	pages := pageFooter.FindAllStringSubmatch(text, -1)
	if len(pages) < 2 {
		t.Fatalf("page footers %q, want one per page (2 or more)", pages)
	}
	for i, m := range pages {
		if m[1] != strconv.Itoa(i+1) || m[2] != strconv.Itoa(len(pages)) {
			t.Errorf("footer %d = %q, want 第 %d 页 / 共 %d 页", i+1, m[0], i+1, len(pages))
		}
	}
}

// TestPDFFontSubset: the font is embedded under a subset name (OUTPUTS.md), the same one
// wherever the PDF names it, and fpdf's own name is gone.
func TestPDFFontSubset(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(zhRender(t), "reports", "TY0001", "TY0001-01.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("/utf8wqymicrohei")) {
		t.Error("the PDF still names the font /utf8wqymicrohei")
	}
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`/[A-Z]{6}\+MicroHei`).FindAll(b, -1) {
		names[string(m)] = true
	}
	if len(names) != 1 {
		t.Errorf("subset font names %v, want one /XXXXXX+MicroHei", names)
	}
}

func TestIncompletePDF(t *testing.T) {
	dir := zhRender(t)
	text := pdfText(t, filepath.Join(dir, "reports", "TY0001", "TY0001-02.pdf"))
	for _, want := range []string{"TY0001-02", "未完成 INCOMPLETE", "报表数据不完整，不得据此签字结算。原因：",
		"FEED_MISSING 报表缺失（解款日报）：no deposit file for TY0001-02", "-100.00"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext: no %q", want)
		}
	}
	// The banner and the status cell on page 1, the running head on every other page.
	pages := len(pageFooter.FindAllString(text, -1))
	if pages < 2 {
		t.Fatalf("%d pages, want 2 or more", pages)
	}
	for p := 1; p <= pages; p++ {
		page := pdfText(t, filepath.Join(dir, "reports", "TY0001", "TY0001-02.pdf"), "-f", strconv.Itoa(p), "-l", strconv.Itoa(p))
		if !strings.Contains(page, "未完成 INCOMPLETE") {
			t.Errorf("page %d does not say 未完成 INCOMPLETE", p)
		}
	}
	// And the translucent diagonal watermark (its text comes out of pdftotext in pieces).
	b, err := os.ReadFile(filepath.Join(dir, "reports", "TY0001", "TY0001-02.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("/ca 0.160")) {
		t.Error("no translucent watermark")
	}
	b, _ = os.ReadFile(filepath.Join(dir, "reports", "TY0001", "TY0001-01.pdf"))
	if bytes.Contains(b, []byte("/ca 0.160")) {
		t.Error("a complete counter's PDF has the watermark")
	}
}

func TestEnglish(t *testing.T) {
	dir := render(t, testOptions("en"))
	f := openXLSX(t, filepath.Join(dir, "reports", "TY0001", "TY0001-01.xlsx"))
	want := []string{"Summary", "Exceptions", "order", "purchase", "reversal", "payment_summary", "local_payment", "remote_payment", "card_sale", "invoice", "deposit"}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Errorf("sheets = %q, want %q", got, want)
	}
	wantText(t, f, "Summary", "A2", "City")
	wantText(t, f, "Summary", "F5", "COMPLETE")
	r := findRow(t, f, "Summary", 1, "Service fees", 1)
	wantText(t, f, "Summary", "B"+strconv.Itoa(r), "Gross")
	wantMoney(t, f, "Summary", 3, r, "1234.5")
	wantText(t, f, "Exceptions", "B3", "Refund over 100.00 without another clerk's approval")
	wantText(t, f, "Exceptions", "C3", "ERROR")
	wantText(t, f, "Exceptions", "D3", "reversal")
	wantText(t, f, "Exceptions", "I1", "What to do")
	wantText(t, f, "Exceptions", "I3", "A refund over 100.00 needs another clerk's approval: give the paper approval form or complaint ticket number.")
	wantText(t, f, "reversal", "A1", "txn_id")
	wantText(t, f, "reversal", "E2", "remote_payment")
	if _, err := os.Stat(filepath.Join(dir, "reports", "city.xlsx")); err != nil {
		t.Error(err)
	}

	text := pdfText(t, filepath.Join(dir, "reports", "TY0001", "TY0001-01.pdf"))
	for _, w := range []string{"Counter Daily Settlement Report", "Business date", "1. Revenue by category × pay method",
		"Service fees", "Cash", "1,234.50", "Shortfall", "Duplicate transaction serial", "Clerk", "Reviewer",
		"Date", "Page 1 / "} {
		if !strings.Contains(text, w) {
			t.Errorf("pdftotext (en): no %q", w)
		}
	}
	for _, zhLabel := range []string{"营业员", "复核人", "柜台日结算报告"} {
		if strings.Contains(text, zhLabel) {
			t.Errorf("pdftotext (en): has %q", zhLabel)
		}
	}
	text = pdfText(t, filepath.Join(dir, "reports", "TY0001", "TY0001-02.pdf"))
	if !strings.Contains(text, "INCOMPLETE") {
		t.Error("pdftotext (en): an incomplete counter's PDF does not say INCOMPLETE")
	}
}

// TestDeterministic renders twice: every file must be byte-identical.
func TestDeterministic(t *testing.T) {
	a, b := render(t, testOptions("zh")), render(t, testOptions("zh"))
	n := 0
	err := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two renders", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 12 { // 3 counters × 2, 2 outlets × 2, the city × 2
		t.Errorf("%d files, want 12", n)
	}
}

func TestFormatsAndProgress(t *testing.T) {
	o := testOptions("zh")
	o.Formats = []string{"pdf"}
	o.Workers = 1
	var calls [][2]int
	o.Progress = func(done, total int) { calls = append(calls, [2]int{done, total}) }
	dir := render(t, o)
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return err
	})
	want := []string{"reports/TY0001/TY0001-01.pdf", "reports/TY0001/TY0001-02.pdf", "reports/TY0001/outlet.pdf",
		"reports/TY0002/TY0002-01.pdf", "reports/TY0002/outlet.pdf", "reports/city.pdf"}
	if !slices.Equal(files, want) {
		t.Errorf("files = %q, want %q", files, want)
	}
	if !slices.Equal(calls, [][2]int{{1, 6}, {2, 6}, {3, 6}, {4, 6}, {5, 6}, {6, 6}}) {
		t.Errorf("progress = %v", calls)
	}

	o = testOptions("zh")
	o.Formats = nil
	dir = render(t, o)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("no formats wrote %d entries", len(entries))
	}

	o = testOptions("zh")
	o.Progress = func(done, total int) { calls = append(calls, [2]int{done, total}) }
	calls = nil
	render(t, o)
	if len(calls) != 9 || calls[8] != [2]int{9, 9} { // 3 counters, 2 outlets × 2, the city × 2
		t.Errorf("progress = %v", calls)
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*engine.Result)
		opts    func(*Options)
		wantErr string
	}{
		{"outlet path", func(r *engine.Result) { r.Counters[0].Outlet = "../evil" }, nil,
			`counter TY/../evil/TY0001-01: outlet id "../evil" is not 1-32 characters of [A-Za-z0-9_-]`},
		{"counter path", func(r *engine.Result) { r.Counters[2].Counter = "a/b" }, nil,
			`counter TY/TY0002/a/b: counter id "a/b" is not 1-32 characters of [A-Za-z0-9_-]`},
		{"empty id", func(r *engine.Result) { r.Counters[2].Counter = "" }, nil,
			`counter TY/TY0002/: counter id "" is not 1-32 characters of [A-Za-z0-9_-]`},
		{"long id", func(r *engine.Result) { r.Counters[2].Counter = strings.Repeat("x", 33) }, nil,
			`counter TY/TY0002/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: counter id "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" is not 1-32 characters of [A-Za-z0-9_-]`},
		{"shared path", func(r *engine.Result) {
			r.Counters = append(r.Counters, engine.CounterInfo{City: "XX", Outlet: "TY0002", Counter: "TY0002-01"})
		}, nil, `counters TY/TY0002/TY0002-01 and XX/TY0002/TY0002-01 would share the report "reports/TY0002/TY0002-01"`},
		{"lang", nil, func(o *Options) { o.Lang = "fr" }, `lang "fr": want zh or en`},
		{"format", nil, func(o *Options) { o.Formats = []string{"xlsx", "docx"} }, `formats: unknown format "docx" (want xlsx, pdf)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			res := testResult(t, mem)
			defer res.Release()
			if tc.edit != nil {
				tc.edit(res)
			}
			o := testOptions("zh")
			if tc.opts != nil {
				tc.opts(&o)
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "run")
			err := Render(context.Background(), res, dirCreator(dir), o)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v, want %s", err, tc.wantErr)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("refused render wrote %d entries", len(entries))
			}
		})
	}
}

func TestCanceled(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res := testResult(t, mem)
	defer res.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Render(ctx, res, dirCreator(t.TempDir()), testOptions("zh")); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestPanicBecomesError: a panic while laying a PDF out is that counter's error. Without a
// font, buildPDF dereferences the nil *runFont (r.font.data) and its own recover catches it.
func TestPanicBecomesError(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res := testResult(t, mem)
	defer res.Release()
	o := testOptions("zh")
	r := &renderer{ix: newRunIndex(res), l: zh, opts: &o, out: dirCreator(t.TempDir())} // no font
	err := r.counter(res.Counters[0], false, true)
	if err == nil || !strings.HasPrefix(err.Error(), "counter TY0001/TY0001-01: pdf: panic: ") {
		t.Errorf("err = %v", err)
	}
}

// TestPoolPanic: a task that panics fails with the panic as its error, caught by the pool's
// recover, and no task after it starts.
func TestPoolPanic(t *testing.T) {
	var ran []int
	var mu sync.Mutex
	mk := func(i int) task {
		return task{fmt.Sprint("task ", i), func() error {
			mu.Lock()
			ran = append(ran, i)
			mu.Unlock()
			if i == 1 {
				panic("it broke")
			}
			return nil
		}}
	}
	tasks := []task{mk(0), mk(1), mk(2), mk(3)}
	err := runPool(context.Background(), 1, tasks, nil)
	if err == nil || err.Error() != "task 1: panic: it broke" {
		t.Errorf("err = %v", err)
	}
	if !slices.Equal(ran, []int{0, 1}) {
		t.Errorf("ran %v, want [0 1]", ran)
	}
}

// TestNoCounters: a day without counters still gets its city roll-up.
func TestNoCounters(t *testing.T) {
	res := &engine.Result{}
	dir := t.TempDir()
	if err := Render(context.Background(), res, dirCreator(dir), testOptions("zh")); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, filepath.Join(dir, "reports", "city.xlsx"))
	rows, _ := f.GetRows("营业厅")
	if len(rows) != 4 || rows[3][0] != "合计" || rows[3][2] != "0" {
		t.Errorf("city outlets = %q", rows)
	}
}

// TestPDFPageBreaks: however many exceptions a counter has, every page that continues the
// exception table repeats its header, and the sign-off block is never split.
func TestPDFPageBreaks(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil && os.Getenv("CI") == "" {
		t.Skip("pdftotext not installed")
	}
	long := strings.Repeat("很长的说明 a long explanation ", 400)
	for _, n := range []int{0, 9, 12, 13, 14, 15, 16, 17, 30, 31, 32, 33, 34, 60} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			res := testResult(t, mem)
			defer res.Release()
			res.Exceptions = nil
			for i := range n {
				detail := "第 " + strconv.Itoa(i) + " 行"
				if i == 5 {
					detail = long
				}
				res.Exceptions = append(res.Exceptions, engine.Exception{Code: engine.CodeDuplicateTxn, Severity: engine.SevError, City: "TY",
					Outlet: "TY0001", Counter: "TY0001-01", Feed: "order", TxnID: "T" + strconv.Itoa(i), Detail: detail, Source: "order.csv:" + strconv.Itoa(i+2)})
			}
			o := testOptions("zh")
			o.Formats = []string{"pdf"}
			dir := t.TempDir()
			if err := Render(context.Background(), res, dirCreator(dir), o); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "reports", "TY0001", "TY0001-01.pdf")
			all := pdfText(t, path)
			pages := len(pageFooter.FindAllString(all, -1))
			rows, signed, legends := 0, 0, 0
			for p := 1; p <= pages; p++ {
				text := pdfText(t, path, "-f", strconv.Itoa(p), "-l", strconv.Itoa(p))
				// The rows of the exceptions table, then the legend of what to do (处理提示),
				// which names the code once more under its own header.
				legend := strings.Count(text, "处理提示")
				if strings.Contains(text, "DUPLICATE_TXN") && !strings.Contains(text, "代码 / 说明") && legend == 0 {
					t.Errorf("page %d: exception rows without the table header", p)
				}
				legends += legend
				rows += strings.Count(text, "DUPLICATE_TXN") - legend
				if strings.Contains(text, "营业员") {
					signed++
					for _, w := range []string{"四、签字确认", "复核人", "日期："} {
						if !strings.Contains(text, w) {
							t.Errorf("page %d: sign-off split, %q elsewhere", p, w)
						}
					}
				}
			}
			if wantLegends := min(n, 1); legends != wantLegends {
				t.Errorf("%d legends of what to do, want %d", legends, wantLegends)
			}
			if rows != n || signed != 1 {
				t.Errorf("%d exception rows, %d sign-off blocks on %d pages; want %d and 1", rows, signed, pages, n)
			}
			if n > 5 && !strings.Contains(all, "…") {
				t.Error("a detail longer than a cell holds is not cut with …")
			}
		})
	}
}

// TestCitySubtotals: a run over several cities totals each city, then all.
func TestCitySubtotals(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res := testResult(t, mem)
	defer res.Release()
	res.Counters = append([]engine.CounterInfo{{City: "DT", Outlet: "DT0001", Counter: "DT0001-01"}}, res.Counters...)
	res.Settlement = append(res.Settlement, engine.SettlementLine{City: "DT", Outlet: "DT0001", Counter: "DT0001-01",
		Category: "ORDER_FEE", PayMethod: "CASH", TxnCount: 1, Gross: 700, Net: 700})
	o := testOptions("zh")
	o.Formats = []string{"xlsx"}
	dir := t.TempDir()
	if err := Render(context.Background(), res, dirCreator(dir), o); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, filepath.Join(dir, "reports", "city.xlsx"))
	rows, _ := f.GetRows("营业厅")
	var first []string
	for _, row := range rows[3:] {
		first = append(first, row[0]+"/"+row[1])
	}
	want := []string{"DT/DT0001", "DT 合计/", "TY/TY0001", "TY/TY0002", "TY 合计/", "合计/"}
	if !slices.Equal(first, want) {
		t.Errorf("outlet rows = %q, want %q", first, want)
	}
	wantMoney(t, f, "营业厅", 5, 5, "7")       // DT's ORDER_FEE net
	wantMoney(t, f, "营业厅", 10, 8, "5671.5") // TY's net
	wantMoney(t, f, "营业厅", 10, 9, "5678.5") // all
}

// TestFindingUnderItsCounter: a finding about a row set aside carries the row's outlet as
// read; the counter's report shows it all the same, as the web page does.
func TestFindingUnderItsCounter(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res := testResult(t, mem)
	defer res.Release()
	res.Exceptions = append(res.Exceptions, engine.Exception{Code: engine.CodeMalformedRow, Severity: engine.SevError, City: "TY", Outlet: "../etc",
		Counter: "TY0002-01", Feed: "local_payment", TxnID: "L9", Detail: "outlet_id \"../etc\" is not an identifier", Source: "local_payment.csv:9"})
	dir := t.TempDir()
	if err := Render(context.Background(), res, dirCreator(dir), testOptions("en")); err != nil {
		t.Fatalf("Render: %v", err)
	}
	f := openXLSX(t, filepath.Join(dir, "reports", "TY0002", "TY0002-01.xlsx"))
	rows, err := f.GetRows("Exceptions")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0]+" "+r[4])
	}
	if want := []string{"MALFORMED_ROW L9"}; !slices.Equal(got, want) {
		t.Errorf("TY0002-01's exceptions = %q, want %q", got, want)
	}
}

// TestCityWideReasonOnEveryCounter: a completeness finding of no counter (a whole-city file
// missing or cut short) is the reason every counter's PDF gives under its INCOMPLETE banner,
// though the roll-ups count it on a line of its own.
func TestCityWideReasonOnEveryCounter(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res := testResult(t, mem)
	defer res.Release()
	res.Exceptions = append(res.Exceptions, engine.Exception{Code: engine.CodeFeedTotalMismatch, Severity: engine.SevError,
		Feed: "invoice", Detail: "invoice.csv: footer 621 rows, read 620", Source: "invoice.csv:622"})
	for i := range res.Counters {
		res.Counters[i].Incomplete = true
	}
	dir := t.TempDir()
	if err := Render(context.Background(), res, dirCreator(dir), testOptions("zh")); err != nil {
		t.Fatalf("Render: %v", err)
	}
	for _, c := range res.Counters {
		text := pdfText(t, filepath.Join(dir, "reports", c.Outlet, c.Counter+".pdf"))
		if !strings.Contains(text, "• FEED_TOTAL_MISMATCH") || !strings.Contains(text, "footer 621 rows, read 620") {
			t.Errorf("%s: the PDF does not give the city-wide reason:\n%s", c.Counter, text)
		}
	}
	// The roll-ups name the city as the counters' reports do.
	for _, rel := range []string{"city.pdf", "TY0001/outlet.pdf"} {
		if text := pdfText(t, filepath.Join(dir, "reports", rel)); !strings.Contains(text, "太原") {
			t.Errorf("%s does not name the city 太原", rel)
		}
	}
}
