package report

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/engine"
	"settle/feed"
)

// renderRes renders res with o into a fresh directory.
func renderRes(t *testing.T, res *engine.Result, o Options) string {
	t.Helper()
	dir := t.TempDir()
	if err := Render(context.Background(), res, dirCreator(dir), o); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return dir
}

// zipPart is one part of an XLSX package.
func zipPart(t *testing.T, path, part string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name == part {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("%s has no part %s", path, part)
	return ""
}

// TestRollupPrintSetup: every sheet of the roll-ups prints landscape on one page width
// (fitToPage, fitToWidth=1, fitToHeight=0: as many pages down as needed), its two header
// rows repeated on every page. A 5-outlet city.xlsx had printed on 8 pages, its columns split.
func TestRollupPrintSetup(t *testing.T) {
	dir := zhRender(t)
	fitToPage := regexp.MustCompile(`<pageSetUpPr[^>]*fitToPage="(1|true)"`)
	for _, book := range []string{"reports/city.xlsx", "reports/TY0001/outlet.xlsx", "reports/TY0002/outlet.xlsx"} {
		path := filepath.Join(dir, book)
		sheets := sheetXML(t, path)
		if len(sheets) == 0 {
			t.Fatalf("%s: no sheets", book)
		}
		for part, x := range sheets {
			if !fitToPage.MatchString(x) {
				t.Errorf("%s %s: not fit to page", book, part)
			}
			setup := regexp.MustCompile(`<pageSetup [^>]*>`).FindString(x)
			for _, want := range []string{`orientation="landscape"`, `fitToWidth="1"`, `fitToHeight="0"`, `paperSize="9"`} {
				if !strings.Contains(setup, want) {
					t.Errorf("%s %s: pageSetup %s lacks %s", book, part, setup, want)
				}
			}
			if strings.Contains(setup, "scale=") {
				t.Errorf("%s %s: pageSetup %s has a fixed scale", book, part, setup)
			}
		}
		wb := zipPart(t, path, "xl/workbook.xml")
		titles := regexp.MustCompile(`<definedName localSheetId="(\d+)" name="_xlnm.Print_Titles">([^<]*)</definedName>`).FindAllStringSubmatch(wb, -1)
		if len(titles) != len(sheets) {
			t.Errorf("%s: %d print titles for %d sheets: %s", book, len(titles), len(sheets), wb)
		}
		for _, m := range titles {
			if !strings.HasSuffix(m[2], "!$2:$3") {
				t.Errorf("%s: print titles %q, want the header rows $2:$3", book, m[2])
			}
		}
	}
}

// orphanResult is the test day with two findings of no valid counter: a row whose counter
// id is not an id (its outlet TY0001's), and a city-level one.
func orphanResult(t *testing.T, mem memory.Allocator) *engine.Result {
	res := testResult(t, mem)
	res.Exceptions = append(res.Exceptions,
		engine.Exception{Code: engine.CodeMalformedRow, Severity: engine.SevError, City: "TY", Outlet: "TY0001", Counter: "bad id",
			Feed: "order", Detail: "counter_id is not an identifier", Source: "order.csv:12"},
		engine.Exception{Code: engine.CodeMalformedRow, Severity: engine.SevWarning, City: "TY",
			Feed: "order", Detail: "a city-level finding", Source: "order.csv:13"})
	return res
}

// sevCounts counts res's exceptions as exceptions.csv has them.
func sevCounts(res *engine.Result) (errors, warnings int) {
	for _, e := range res.Exceptions {
		switch e.Severity {
		case engine.SevError:
			errors++
		case engine.SevWarning:
			warnings++
		}
	}
	return errors, warnings
}

// TestRollupCountsEveryFinding: the city roll-up's error and warning totals equal the
// run's (exceptions.csv's), a finding of no valid counter on a line of its own; the outlet's
// roll-up counts the findings that name it.
func TestRollupCountsEveryFinding(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res := orphanResult(t, mem)
	defer res.Release()
	wantErr, wantWarn := sevCounts(res)
	dir := renderRes(t, res, testOptions("zh"))

	c := openXLSX(t, filepath.Join(dir, "reports", "city.xlsx"))
	for _, sheet := range []string{"营业厅", "柜台"} {
		rows, _ := c.GetRows(sheet)
		n := len(rows)
		orphan, total := rows[n-2], rows[n-1]
		if orphan[0] != "无有效柜台/城市级" || total[0] != "合计" {
			t.Fatalf("%s: last rows %q %q", sheet, orphan, total)
		}
		last := len(total)
		if got := [2]string{total[last-2], total[last-1]}; got != [2]string{strconv.Itoa(wantErr), strconv.Itoa(wantWarn)} {
			t.Errorf("%s: totals errors/warnings %q, exceptions %d/%d", sheet, got, wantErr, wantWarn)
		}
		if got := [2]string{orphan[len(orphan)-2], orphan[len(orphan)-1]}; got != [2]string{"1", "1"} {
			t.Errorf("%s: no-counter line errors/warnings %q, want 1/1", sheet, got)
		}
	}
	o := openXLSX(t, filepath.Join(dir, "reports", "TY0001", "outlet.xlsx"))
	rows, _ := o.GetRows("柜台")
	n := len(rows)
	if rows[n-2][0] != "无有效柜台/城市级" || rows[n-2][len(rows[n-2])-2] != "1" || rows[n-1][len(rows[n-1])-2] != "5" {
		t.Errorf("outlet TY0001: last rows %q %q, want the no-counter line with 1 error and 5 errors in all", rows[n-2], rows[n-1])
	}
	o2 := openXLSX(t, filepath.Join(dir, "reports", "TY0002", "outlet.xlsx"))
	if rows, _ := o2.GetRows("柜台"); slices.ContainsFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "无有效柜台/城市级" }) {
		t.Error("outlet TY0002 shows a no-counter line of findings that are not its")
	}

	// The PDF says the same.
	text := pdfText(t, filepath.Join(dir, "reports", "city.pdf"), "-layout")
	var totals []string
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "合计" {
			totals = append(totals, line)
		}
	}
	// Net tables end in errors and warnings: the outlets' table, then the counters'.
	var netTotals int
	for _, line := range totals {
		if nums, errs, warns, ok := netTotal(line); ok {
			netTotals++
			if len(nums) != len(feed.Categories)+1 || errs != wantErr || warns != wantWarn {
				t.Errorf("city.pdf total line %q: errors/warnings, want %d/%d", line, wantErr, wantWarn)
			}
		}
	}
	if netTotals != 2 {
		t.Errorf("city.pdf: %d net total lines, want 2:\n%s", netTotals, text)
	}
	if !strings.Contains(text, "无有效柜台/城市级") {
		t.Error("city.pdf has no no-counter line")
	}
}

// TestRollupPDF: the roll-ups' PDFs are A4 landscape, in Chinese, with the font embedded
// and every page numbered "第 X 页 / 共 Y 页"; their money totals equal the sums of the
// settlement and variance lines; their table heads repeat on every page.
func TestRollupPDF(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res := testResult(t, mem)
	defer res.Release()
	// Enough counters for several pages.
	for i := range 60 {
		c := engine.CounterInfo{City: "TY", Outlet: "TY0003", Counter: fmt.Sprintf("TY0003-%02d", i)}
		res.Counters = append(res.Counters, c)
		res.Settlement = append(res.Settlement, engine.SettlementLine{City: c.City, Outlet: c.Outlet, Counter: c.Counter,
			Category: "TERMINAL", PayMethod: "POS", TxnCount: 1, Gross: int64(100000 + i), Net: int64(100000 + i)})
		res.Variance = append(res.Variance, engine.VarianceLine{City: c.City, Outlet: c.Outlet, Counter: c.Counter,
			PayMethod: "POS", Expected: int64(100000 + i), Deposited: int64(100000 + i)})
	}
	dir := renderRes(t, res, testOptions("zh"))

	netBy := map[string]int64{}
	var net, exp, dep, vari int64
	for _, s := range res.Settlement {
		netBy[s.Category] += s.Net
		net += s.Net
	}
	for _, v := range res.Variance {
		exp += v.Expected
		dep += v.Deposited
		vari += v.Variance
	}
	path := filepath.Join(dir, "reports", "city.pdf")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`/MediaBox \[0 0 841\.89 595\.28\]`).Match(raw) {
		t.Error("city.pdf is not A4 landscape")
	}
	if !regexp.MustCompile(`/BaseFont /[A-Z]{6}\+MicroHei`).Match(raw) || !strings.Contains(string(raw), "/FontFile2") {
		t.Error("city.pdf does not embed the subset font")
	}
	text := pdfText(t, path, "-layout")
	pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
	if len(pages) < 3 {
		t.Fatalf("city.pdf: %d pages, want several", len(pages))
	}
	for i, pg := range pages {
		if m := pageFooter.FindStringSubmatch(pg); m == nil || m[1] != strconv.Itoa(i+1) || m[2] != strconv.Itoa(len(pages)) {
			t.Errorf("page %d: footer %q", i+1, m)
		}
		// Every page holds a table whose head is on it.
		if !strings.Contains(pg, "业务费") && !strings.Contains(pg, "应解金额") {
			t.Errorf("page %d has no table head:\n%s", i+1, pg)
		}
		if strings.Contains(pg, "□") {
			t.Errorf("page %d draws a character the font lacks", i+1)
		}
	}
	if !strings.Contains(pages[0], "地市日结算汇总") || !strings.Contains(pages[0], "单位：元") {
		t.Errorf("page 1 has no Chinese title:\n%s", pages[0])
	}
	// The totals: the net table's total line has every category's net, the total, errors,
	// warnings; the deposit tables' total lines the expected, deposited and variance.
	var netLine []int64
	var depFigures []int64
	for line := range strings.SplitSeq(text, "\n") {
		if f := strings.Fields(line); len(f) == 0 || f[0] != "合计" {
			continue
		}
		if nums, _, _, ok := netTotal(line); ok {
			if netLine == nil {
				netLine = nums
			}
			continue
		}
		if len(depFigures) < 3*len(feed.PayMethods.Values) {
			depFigures = append(depFigures, trailingFigures(line)...)
		}
	}
	if len(netLine) != len(feed.Categories)+1 {
		t.Fatalf("no net total line:\n%s", text)
	}
	for i, c := range feed.Categories {
		if got := netLine[i]; got != netBy[c.Code] {
			t.Errorf("city.pdf net %s = %d fen, settlement lines %d", c.Code, got, netBy[c.Code])
		}
	}
	if got := netLine[len(feed.Categories)]; got != net {
		t.Errorf("city.pdf net total = %d fen, settlement lines %d", got, net)
	}
	var gotExp, gotDep, gotVar int64
	for i := 0; i+2 < len(depFigures); i += 3 {
		gotExp, gotDep, gotVar = gotExp+depFigures[i], gotDep+depFigures[i+1], gotVar+depFigures[i+2]
	}
	if len(depFigures) != 3*len(feed.PayMethods.Values) || gotExp != exp || gotDep != dep || gotVar != vari {
		t.Errorf("city.pdf deposits %v: expected/deposited/variance %d/%d/%d, variance lines %d/%d/%d", depFigures, gotExp, gotDep, gotVar, exp, dep, vari)
	}

	// The outlet's: landscape too, its counters, INCOMPLETE as loud as on a counter's.
	out := pdfText(t, filepath.Join(dir, "reports", "TY0001", "outlet.pdf"), "-layout")
	for _, want := range []string{"营业厅日结算汇总", "TY0001-01", "TY0001-02", "未完成 INCOMPLETE", "no deposit file for TY0001-02", "第 1 页 / 共 1 页"} {
		if !strings.Contains(out, want) {
			t.Errorf("outlet.pdf lacks %q:\n%s", want, out)
		}
	}
	if out := pdfText(t, filepath.Join(dir, "reports", "TY0002", "outlet.pdf")); strings.Contains(out, "未完成") {
		t.Errorf("TY0002's roll-up, all complete, says incomplete:\n%s", out)
	}
}

var figure = regexp.MustCompile(`^(-?)([0-9,]+)\.(\d\d)$`)

// trailingFigures are the money figures that end a line of text, in fen.
func trailingFigures(line string) []int64 {
	f := strings.Fields(line)
	i := len(f)
	for i > 0 && figure.MatchString(f[i-1]) {
		i--
	}
	var out []int64
	for _, s := range f[i:] {
		out = append(out, yuanFen(s))
	}
	return out
}

// netTotal reads a net table's line: money figures, then the errors and warnings counts.
func netTotal(line string) (nums []int64, errors, warnings int, ok bool) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return nil, 0, 0, false
	}
	e, err1 := strconv.Atoi(f[len(f)-2])
	w, err2 := strconv.Atoi(f[len(f)-1])
	if err1 != nil || err2 != nil {
		return nil, 0, 0, false
	}
	return trailingFigures(strings.Join(f[:len(f)-2], " ")), e, w, true
}

func yuanFen(s string) int64 {
	m := figure.FindStringSubmatch(s)
	y, _ := strconv.ParseInt(strings.ReplaceAll(m[2], ",", ""), 10, 64)
	c, _ := strconv.ParseInt(m[3], 10, 64)
	if m[1] == "-" {
		return -(y*100 + c)
	}
	return y*100 + c
}

// TestXLSXOnlyNoRollupPDF: --formats xlsx writes no PDF, roll-ups' included.
func TestXLSXOnlyNoRollupPDF(t *testing.T) {
	o := testOptions("zh")
	o.Formats = []string{FormatXLSX}
	dir := render(t, o)
	var pdfs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(p, ".pdf") {
			pdfs = append(pdfs, p)
		}
		return err
	})
	if len(pdfs) != 0 {
		t.Errorf("xlsx only wrote %q", pdfs)
	}
}

// TestDayOpen: a run of a business day not over says so on the face of every report, in
// each language; another run does not.
func TestDayOpen(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		mark := map[string]string{"zh": "营业中，数据未截止", "en": "Business day in progress — data not final"}[lang]
		o := testOptions(lang)
		o.DayOpen = true
		dir := render(t, o)
		pdfs := []string{"reports/TY0001/TY0001-01.pdf", "reports/TY0001/TY0001-02.pdf", "reports/TY0001/outlet.pdf", "reports/city.pdf"}
		for _, p := range pdfs {
			text := pdfText(t, filepath.Join(dir, p))
			pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
			for i, pg := range pages {
				if !strings.Contains(pg, mark) {
					t.Errorf("%s %s page %d lacks %q", lang, p, i+1, mark)
				}
			}
		}
		// The counter workbook: a banner on the summary and the print header of every sheet.
		f := openXLSX(t, filepath.Join(dir, "reports", "TY0001", "TY0001-01.xlsx"))
		sheet := f.GetSheetList()[0]
		if findRow(t, f, sheet, 1, mark, 1) == 0 {
			t.Errorf("%s: counter summary has no %q row", lang, mark)
		}
		for _, book := range []string{"reports/TY0001/TY0001-01.xlsx", "reports/TY0001/outlet.xlsx", "reports/city.xlsx"} {
			for part, x := range sheetXML(t, filepath.Join(dir, book)) {
				if !strings.Contains(x, "<oddHeader>") || !strings.Contains(x, mark) {
					t.Errorf("%s %s %s: no %q print header", lang, book, part, mark)
				}
			}
		}
		c := openXLSX(t, filepath.Join(dir, "reports", "city.xlsx"))
		for _, sheet := range c.GetSheetList() {
			if v, _ := c.GetCellValue(sheet, "A1"); !strings.Contains(v, mark) {
				t.Errorf("%s city.xlsx %s: title %q lacks %q", lang, sheet, v, mark)
			}
		}
	}

	// Not open: not a word of it.
	dir := zhRender(t)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case strings.HasSuffix(p, ".pdf"):
			if strings.Contains(pdfText(t, p), "营业中") {
				t.Errorf("%s says the day is open", p)
			}
		case strings.HasSuffix(p, ".xlsx"):
			for part, x := range sheetXML(t, p) {
				if strings.Contains(x, "营业中") {
					t.Errorf("%s %s says the day is open", p, part)
				}
			}
		}
		return err
	})
}

// cityResult is a city of outlets × counters, each counter with a line per category and a
// deposit per pay method: the size of the demo city (457 × 5).
func cityResult(outlets, counters int) *engine.Result {
	res := &engine.Result{Date: time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)}
	for o := range outlets {
		for c := range counters {
			ci := engine.CounterInfo{City: "TY", Outlet: fmt.Sprintf("TY%04d", o+1), Counter: fmt.Sprintf("TY%04d-%02d", o+1, c+1)}
			res.Counters = append(res.Counters, ci)
			for k, cat := range feed.Categories {
				m := feed.PayMethods.Values[k%len(feed.PayMethods.Values)]
				n := int64(1000*o + 10*c + k)
				res.Settlement = append(res.Settlement, engine.SettlementLine{City: ci.City, Outlet: ci.Outlet, Counter: ci.Counter,
					Category: cat.Code, PayMethod: m, TxnCount: 1, Gross: n, Net: n})
				res.Variance = append(res.Variance, engine.VarianceLine{City: ci.City, Outlet: ci.Outlet, Counter: ci.Counter,
					PayMethod: m, Expected: n, Deposited: n})
			}
		}
	}
	return res
}

// BenchmarkCityRollupPDF is the city roll-up's PDF of a demo-sized city (2285 counters), the
// longest single task a roll-up PDF adds to a run.
func BenchmarkCityRollupPDF(b *testing.B) {
	res := cityResult(457, 5)
	o := testOptions("zh")
	dir := b.TempDir()
	r := &renderer{ix: newRunIndex(res), l: zh, opts: &o, out: dirCreator(dir)}
	r.sorted = r.ix.sortedCounters()
	var err error
	if r.font, err = newRunFont(res, zh, &o); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.rollupPDF(r.cityRollupData()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(fileSize(b, filepath.Join(dir, "reports", "city.pdf")), "file-bytes")
}

// BenchmarkCityRollupXLSX is the same city's workbook, for comparison.
func BenchmarkCityRollupXLSX(b *testing.B) {
	res := cityResult(457, 5)
	o := testOptions("zh")
	dir := b.TempDir()
	r := &renderer{ix: newRunIndex(res), l: zh, opts: &o, out: dirCreator(dir)}
	r.sorted = r.ix.sortedCounters()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.rollupXLSX(r.cityRollupData()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOutletRollupPDF is one outlet's roll-up PDF (5 counters); a run writes one per outlet.
func BenchmarkOutletRollupPDF(b *testing.B) {
	res := cityResult(1, 5)
	o := testOptions("zh")
	dir := b.TempDir()
	r := &renderer{ix: newRunIndex(res), l: zh, opts: &o, out: dirCreator(dir)}
	r.sorted = r.ix.sortedCounters()
	var err error
	if r.font, err = newRunFont(res, zh, &o); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.rollupPDF(r.outletRollupData("TY0001", r.sorted)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRollupReasonsCapped: a city where every counter is incomplete lists the first reasons
// and how many more, not pages of them.
func TestRollupReasonsCapped(t *testing.T) {
	res := cityResult(20, 5)
	for i := range res.Counters {
		c := &res.Counters[i]
		c.Incomplete = true
		c.Why = []string{"FEED_MISSING deposit: no deposit file for " + c.Counter}
		res.Exceptions = append(res.Exceptions, engine.Exception{Code: engine.CodeFeedMissing, Severity: engine.SevError,
			City: c.City, Outlet: c.Outlet, Counter: c.Counter, Feed: "deposit", Detail: "no deposit file for " + c.Counter})
	}
	o := testOptions("en")
	o.Formats = []string{FormatPDF}
	dir := renderRes(t, res, o)
	text := pdfText(t, filepath.Join(dir, "reports", "city.pdf"))
	if n := strings.Count(text, "no deposit file for"); n != 29 {
		t.Errorf("%d reasons listed, want 29", n)
	}
	if !strings.Contains(text, "… (+71)") || !strings.Contains(text, "100 of 100 counters incomplete") {
		t.Errorf("the PDF does not say how many more:\n%s", text)
	}
	if !strings.Contains(text, "TY0001 / TY0001-01: FEED_MISSING") {
		t.Errorf("no reason of TY0001-01 as 'outlet / counter: why':\n%s", text)
	}
}

// TestRollupReasonsInLanguage: the roll-up lists the reasons as the counter reports do, in
// the report's language (the feed by its name, the code described), and a city-wide one
// once, not once per counter.
func TestRollupReasonsInLanguage(t *testing.T) {
	res := cityResult(2, 2)
	for i := range res.Counters {
		c := &res.Counters[i]
		c.Incomplete = true
		c.Why = []string{"FEED_MISSING remote_payment: no file"}
	}
	res.Exceptions = append(res.Exceptions, engine.Exception{Code: engine.CodeFeedMissing, Severity: engine.SevError,
		Feed: "remote_payment", Detail: "没有文件"})
	o := testOptions("zh")
	o.Formats = []string{FormatPDF}
	dir := renderRes(t, res, o)
	text := pdfText(t, filepath.Join(dir, "reports", "city.pdf"))
	if n := strings.Count(text, "没有文件"); n != 1 {
		t.Errorf("the city-wide reason is listed %d times, want once:\n%s", n, text)
	}
	if !strings.Contains(text, "异地缴费日报") || strings.Contains(text, "remote_payment:") {
		t.Errorf("the reason is not in Chinese (feed by its name):\n%s", text)
	}
}
