package hardening

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/csv"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"settle/fixtures"
	"settle/fixtures/sim"
	"settle/store"
)

// The fault table: a small generated day (3 outlets × 3 counters, ids TY000o-0k) is run
// clean, spoiled in one ordinary way, and run again; the outcome must be exactly the one
// the contract names.

// maxRSS is the bound on a settle process's peak resident memory.
const maxRSS = 2_500_000_000

// dayLayout names one way of writing the clean day.
type dayLayout string

const (
	canonCity  dayLayout = "canonical" // <feed>.csv, UTF-8, TOTAL footer
	bossCity   dayLayout = "boss"      // 太原_<报表>.csv (GBK, title, 合计 footer), 购机日报.xlsx
	bossPerCtr dayLayout = "boss-counter"
)

// ran is what one settle run left.
type ran struct {
	code       int
	rss        int64 // bytes
	stderr     string
	dir        string // the current run ("" when none)
	manifest   *store.Manifest
	settlement []byte
	variance   []byte
	exceptions [][]string // biz_date,code,severity,city,outlet_id,counter_id,feed,txn_id,amount,detail,source
	rejects    [][]string // feed,source,line,reason,raw
}

// runOnce runs settle run over source into a new store and reads what it published.
func runOnce(t *testing.T, source string, extraEnv ...string) ran {
	t.Helper()
	top := t.TempDir()
	st := filepath.Join(top, "store")
	tmp := filepath.Join(top, "tmp")
	os.Mkdir(tmp, 0o755)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--date", date, "--source", source, "--store", st, "--quiet")
	cmd.Env = env(tmp, extraEnv...)
	cmd.Dir = tmp
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &errb, &errb
	err := cmd.Run()
	r := ran{stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("settle run %s: %v\n%s", source, err, tail(r.stderr, 4000))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("settle run panicked:\n%s", tail(r.stderr, 4000))
	}
	if r.code == 2 {
		t.Fatalf("settle run exited 2 (usage/config) on a data fault:\n%s", tail(r.stderr, 4000))
	}
	if r.rss > maxRSS {
		t.Errorf("settle run peaked at %d MiB of RSS, over the 2.5 GB bound", r.rss>>20)
	}
	if r.code == 1 {
		if cur, _ := storeState(t, st); cur != "" {
			t.Errorf("exit 1 but run %s was published", cur)
		}
		return r
	}
	r.dir, r.manifest = currentRun(t, st)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(r.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	r.settlement, r.variance = read("settlement.csv"), read("variance.csv")
	r.exceptions = readCSV(t, filepath.Join(r.dir, "exceptions.csv"))
	r.rejects = readCSV(t, filepath.Join(r.dir, "rejects.csv"))
	return r
}

// want is the exact outcome of a spoiled day.
type want struct {
	code    int      // exit code (0: published complete; 4: incomplete; 1: failed)
	same    bool     // settlement.csv and variance.csv byte-identical to the clean run's
	sameBut []string // else: every settlement/variance line not of these counters is the clean run's
	exc     []excWant
	noExc   []string // codes that must not appear (beyond the clean run's)
	reject  []string // texts some rejects.csv row must hold (reason or source)
	// owner: counter → outlet whose reports/<outlet>/<counter>.xlsx must exist (and no other).
	owner map[string]string
}

// excWant is one exception that must be present: its code, and when set its counter, the
// outlet it is filed under, and a text its detail or source holds.
type excWant struct {
	code, counter, outlet, text string
}

// check compares a spoiled run with the clean one.
func (w want) check(t *testing.T, clean, got ran) {
	t.Helper()
	if got.code != w.code {
		t.Fatalf("want exit %d, got %d\n%s", w.code, got.code, tail(got.stderr, 4000))
	}
	if w.code == 1 {
		return
	}
	wantStatus := "complete"
	if w.code == 4 {
		wantStatus = "incomplete"
	}
	if got.manifest.Status != wantStatus {
		t.Errorf("manifest status %q, want %q", got.manifest.Status, wantStatus)
	}
	if w.same {
		if !bytes.Equal(got.settlement, clean.settlement) {
			t.Errorf("settlement.csv differs from the clean run's:\n%s", lineDiff(clean.settlement, got.settlement))
		}
		if !bytes.Equal(got.variance, clean.variance) {
			t.Errorf("variance.csv differs from the clean run's:\n%s", lineDiff(clean.variance, got.variance))
		}
	}
	if w.sameBut != nil {
		for _, f := range [][2][]byte{{clean.settlement, got.settlement}, {clean.variance, got.variance}} {
			a, b := otherLines(f[0], w.sameBut...), otherLines(f[1], w.sameBut...)
			if !slices.Equal(a, b) {
				t.Errorf("lines of counters other than %s changed:\n%s", w.sameBut, lineDiff([]byte(strings.Join(a, "\n")), []byte(strings.Join(b, "\n"))))
			}
		}
		// The named counters are named because the fault reaches them: lines of theirs
		// equal to the clean run's would mean the fault was never read.
		for _, c := range w.sameBut {
			if slices.Equal(counterLines(clean.settlement, c), counterLines(got.settlement, c)) &&
				slices.Equal(counterLines(clean.variance, c), counterLines(got.variance, c)) {
				t.Errorf("counter %s: settlement and variance lines are the clean run's; the fault did not reach it", c)
			}
		}
	}
	for _, e := range w.exc {
		ok := slices.ContainsFunc(got.exceptions, func(r []string) bool {
			return r[1] == e.code && (e.counter == "" || r[5] == e.counter) && (e.outlet == "" || r[4] == e.outlet) &&
				(e.text == "" || strings.Contains(r[9], e.text) || strings.Contains(r[10], e.text))
		})
		if !ok {
			t.Errorf("no %s exception (counter %q, outlet %q, text %q); exceptions:\n%s", e.code, e.counter, e.outlet, e.text, rowsText(got.exceptions, 40))
		}
	}
	for _, code := range w.noExc {
		n0 := countCode(clean.exceptions, code)
		if n := countCode(got.exceptions, code); n > n0 {
			t.Errorf("%d %s exception(s), the clean run had %d:\n%s\nrejects:\n%s", n, code, n0, rowsText(got.exceptions, 10), rowsText(got.rejects, 5))
		}
	}
	for _, text := range w.reject {
		if !slices.ContainsFunc(got.rejects, func(r []string) bool { return strings.Contains(strings.Join(r[:4], "\t"), text) }) {
			t.Errorf("no reject mentions %q; rejects:\n%s", text, rowsText(got.rejects, 20))
		}
	}
	for counter, outlet := range w.owner {
		files := tree(t, filepath.Join(got.dir, "reports"))
		for p := range files {
			if strings.HasSuffix(p, "/"+counter+".xlsx") && p != outlet+"/"+counter+".xlsx" {
				t.Errorf("reports/%s: the counter's report is under another outlet", p)
			}
		}
		if _, ok := files[outlet+"/"+counter+".xlsx"]; !ok {
			t.Errorf("no reports/%s/%s.xlsx", outlet, counter)
		}
		for _, name := range []string{"settlement.csv", "variance.csv"} {
			for _, r := range readCSV(t, filepath.Join(got.dir, name)) {
				if r[3] == counter && r[2] != outlet {
					t.Errorf("%s: %s under outlet %s, want %s", name, counter, r[2], outlet)
				}
			}
		}
	}
}

func countCode(rows [][]string, code string) int {
	n := 0
	for _, r := range rows {
		if r[1] == code {
			n++
		}
	}
	return n
}

func rowsText(rows [][]string, n int) string {
	var b strings.Builder
	for i, r := range rows {
		if i == n {
			fmt.Fprintf(&b, "… %d more\n", len(rows)-n)
			break
		}
		b.WriteString(strings.Join(r, " | ") + "\n")
	}
	return b.String()
}

// otherLines are the lines of a CSV output that are not of counter.
func otherLines(data []byte, counters ...string) []string {
	return slices.DeleteFunc(strings.Split(string(data), "\n"), func(l string) bool {
		return slices.ContainsFunc(counters, func(c string) bool { return strings.Contains(l, ","+c+",") })
	})
}

// counterLines are the lines of a CSV output that are of counter.
func counterLines(data []byte, counter string) []string {
	return slices.DeleteFunc(strings.Split(string(data), "\n"), func(l string) bool { return !strings.Contains(l, ","+counter+",") })
}

// lineDiff lists the lines only in a (-) and only in b (+).
func lineDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	var out []string
	for _, l := range la {
		if !slices.Contains(lb, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range lb {
		if !slices.Contains(la, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// ---- editing a day's files ----

// feedFile is the path of a feed's city-wide file in a layout (boss: its report name).
func feedFile(src string, l dayLayout, f string) string {
	if l == canonCity {
		return filepath.Join(src, f+".csv")
	}
	name := map[string]string{"order": "业务办理日报", "purchase": "购机日报", "reversal": "冲退日报", "payment_summary": "交费日报",
		"local_payment": "本地缴费日报", "remote_payment": "异地缴费日报", "card_sale": "商务卡日报", "invoice": "发票日报", "deposit": "解款日报"}[f]
	if l == bossPerCtr {
		panic("use counterFile")
	}
	return filepath.Join(src, "太原_"+name+".csv")
}

// counterFile is the path of a per-counter BOSS file.
func counterFile(src, f, counter string) string {
	name := map[string]string{"order": "业务办理日报", "deposit": "解款日报", "local_payment": "本地缴费日报"}[f]
	return filepath.Join(src, counter[:6], "太原_"+counter+"_"+name+".csv")
}

// text is a file's lines (decoded from GBK when it is not UTF-8) and how it was written.
type text struct {
	lines []string
	gbk   bool
	crlf  bool
}

func readText(t *testing.T, path string) text {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var x text
	if !utf8.Valid(data) {
		x.gbk = true
		if data, err = simplifiedchinese.GB18030.NewDecoder().Bytes(data); err != nil {
			t.Fatal(err)
		}
	}
	s := string(data)
	x.crlf = strings.Contains(s, "\r\n")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	x.lines = strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return x
}

func (x text) write(t *testing.T, path string) {
	t.Helper()
	end := "\n"
	if x.crlf {
		end = "\r\n"
	}
	s := strings.Join(x.lines, end) + end
	data := []byte(s)
	if x.gbk {
		data = gbk(t, s)
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// headerAt is the index of the line holding col (the header), -1 if none.
func (x text) headerAt(col string) int {
	for i, l := range x.lines {
		if slices.Contains(splitCSV(l), col) {
			return i
		}
	}
	return -1
}

func splitCSV(l string) []string {
	r := csv.NewReader(strings.NewReader(l))
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err != nil {
		return nil
	}
	return rec
}

// firstRowOf is the index of the first data line of counter.
func (x text) firstRowOf(counter string) int {
	for i, l := range x.lines {
		if c := splitCSV(l); len(c) > 3 && c[3] == counter {
			return i
		}
	}
	return -1
}

// edit runs f over a file's text and writes it back.
func edit(t *testing.T, path string, f func(x *text)) {
	t.Helper()
	x := readText(t, path)
	f(&x)
	x.write(t, path)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(to), 0o755)
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// setCell sets cell col (by header name) of line i.
func (x *text) setCell(i int, header int, col, v string) {
	h := splitCSV(x.lines[header])
	c := splitCSV(x.lines[i])
	c[slices.Index(h, col)] = v
	x.lines[i] = csvLine(c...)
}

// permute rewrites every line with its cells in the order perm (header, rows and footer).
func (x *text) permute(perm []int) {
	for i, l := range x.lines {
		c := splitCSV(l)
		if len(c) != len(perm) {
			continue // title lines
		}
		out := make([]string, len(perm))
		for j, p := range perm {
			out[j] = c[p]
		}
		x.lines[i] = csvLine(out...)
	}
}

// ---- XLSX ----

// sheetSpec is one sheet of a workbook built from a canonical CSV: a cover (a note and no
// header), or a header and the data lines [from, to) of the CSV, plus the footer when last.
type sheetSpec struct {
	name     string
	cover    bool
	from, to int // data line indexes (0 = first data line); to -1 = the end
	footer   bool
}

// xlsxFrom writes the canonical CSV csvPath as a workbook at out: amounts as numbers in
// the number formats fmts (one per row, cycled; "" = General), every other cell as text.
// override replaces the stored amount of data line i.
func xlsxFrom(t *testing.T, csvPath, out string, sheets []sheetSpec, fmts []string, override map[int]float64) {
	t.Helper()
	x := readText(t, csvPath)
	header := splitCSV(x.lines[0])
	amountCol := slices.Index(header, "amount")
	var data [][]string
	var footer []string
	for _, l := range x.lines[1:] {
		c := splitCSV(l)
		if c[0] == "TOTAL" {
			footer = c
			continue
		}
		data = append(data, c)
	}
	f := excelize.NewFile()
	defer f.Close()
	styles := map[string]int{}
	for _, nf := range fmts {
		if nf == "" {
			continue
		}
		s := nf
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &s})
		if err != nil {
			t.Fatal(err)
		}
		styles[nf] = id
	}
	k := 0
	writeRow := func(sheet string, row int, cells []string, isData bool, di int) {
		numeric := isData || cells[0] == "TOTAL"
		for j, v := range cells {
			ref, _ := excelize.CoordinatesToCellName(j+1, row)
			if j == amountCol && v != "" && numeric {
				n, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
				if err != nil { // a malformed amount of an anomaly day stays text
					f.SetCellStr(sheet, ref, v)
					continue
				}
				if o, ok := override[di]; ok && isData {
					n = o
				}
				if err := f.SetCellFloat(sheet, ref, n, -1, 64); err != nil {
					t.Fatal(err)
				}
				if isData && len(fmts) > 0 {
					if nf := fmts[k%len(fmts)]; nf != "" {
						f.SetCellStyle(sheet, ref, ref, styles[nf])
					}
					k++
				}
				continue
			}
			if err := f.SetCellStr(sheet, ref, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for si, s := range sheets {
		if si == 0 {
			f.SetSheetName("Sheet1", s.name)
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		if s.cover {
			f.SetCellStr(s.name, "A1", "太原分公司 营收报表 封面")
			f.SetCellStr(s.name, "A2", "制表人：张三")
			continue
		}
		writeRow(s.name, 1, header, false, 0)
		to := s.to
		if to < 0 {
			to = len(data)
		}
		row := 2
		for i := s.from; i < to; i++ {
			writeRow(s.name, row, data[i], true, i)
			row++
		}
		if s.footer && footer != nil {
			writeRow(s.name, row, footer, false, 0)
		}
	}
	os.MkdirAll(filepath.Dir(out), 0o755)
	if err := f.SaveAs(out); err != nil {
		t.Fatal(err)
	}
}

// plainXLSX is a workbook of one sheet as a minimal writer makes it: no styles, no shared
// strings (inline strings), rows and cells without their r references; cells under the
// column named numCol (and the footer's) are numbers, data cells written as num says.
func plainXLSX(t *testing.T, lines []string, numCol string, num func(string) string) []byte {
	t.Helper()
	return plainWorkbook(t, []plainSheet{{"data", lines}}, numCol, num)
}

// plainSheet is a sheet of plainWorkbook: its name and CSV lines.
type plainSheet struct {
	name  string
	lines []string
}

// zipPut returns a function that stores one part of a workbook in zw.
func zipPut(t *testing.T, zw *zip.Writer) func(name, body string) {
	return func(name, body string) {
		t.Helper()
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
}

// plainWorkbook is plainXLSX of several sheets; num applies to data lines (not TOTAL).
func plainWorkbook(t *testing.T, sheets []plainSheet, numCol string, num func(string) string) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	put := zipPut(t, zw)
	var types, list, rels strings.Builder
	for i, sh := range sheets {
		fmt.Fprintf(&types, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, i+1)
		fmt.Fprintf(&list, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, sh.name, i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
	}
	put("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`+types.String()+`</Types>`)
	put("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	put("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`+list.String()+`</sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+rels.String()+`</Relationships>`)
	for si, s := range sheets {
		var sh strings.Builder
		sh.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		col := slices.Index(splitCSV(s.lines[0]), numCol)
		for i, l := range s.lines {
			sh.WriteString("<row>")
			var cells []string
			if strings.Contains(l, `"`) {
				cells = splitCSV(l)
			} else {
				cells = strings.Split(l, ",") // fast: 66,000 rows under -race
			}
			for j, v := range cells {
				if j == col && i > 0 && v != "" {
					if num != nil && cells[0] != "TOTAL" {
						v = num(v)
					}
					sh.WriteString(`<c><v>` + v + `</v></c>`)
					continue
				}
				if strings.ContainsAny(v, "<>&") {
					var esc bytes.Buffer
					xml.EscapeText(&esc, []byte(v))
					v = esc.String()
				}
				sh.WriteString(`<c t="inlineStr"><is><t>` + v + `</t></is></c>`)
			}
			sh.WriteString("</row>")
		}
		sh.WriteString(`</sheetData></worksheet>`)
		put(fmt.Sprintf("xl/worksheets/sheet%d.xml", si+1), sh.String())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// typedXLSX writes a canonical CSV as a workbook the way a spreadsheet program re-saves it:
// dates (YYYY-MM-DD) as date serials shown yyyy-mm-dd, times as serials shown
// yyyy-mm-dd hh:mm:ss, and every other cell that is a decimal number of at most 15 digits
// as a number (amounts shown #,##0.00); the rest as text.
func typedXLSX(t *testing.T, csvPath, out string) {
	t.Helper()
	x := readText(t, csvPath)
	f := excelize.NewFile()
	defer f.Close()
	dateFmt, timeFmt, moneyFmt := "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss", "#,##0.00"
	ds, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	ts, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt})
	ms, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &moneyFmt})
	const sheet = "Sheet1"
	for i, l := range x.lines {
		for j, v := range splitCSV(l) {
			ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if i == 0 {
				f.SetCellStr(sheet, ref, v)
				continue
			}
			if tm, err := time.Parse("2006-01-02 15:04:05", v); err == nil {
				f.SetCellValue(sheet, ref, tm)
				f.SetCellStyle(sheet, ref, ref, ts)
				continue
			}
			if tm, err := time.Parse("2006-01-02", v); err == nil {
				f.SetCellValue(sheet, ref, tm)
				f.SetCellStyle(sheet, ref, ref, ds)
				continue
			}
			digits := strings.Count(v, "") - 1 - strings.Count(v, ".")
			if n, err := strconv.ParseFloat(v, 64); err == nil && digits <= 15 && v != "" && (v[0] != '0' || v == "0" || strings.HasPrefix(v, "0.")) {
				f.SetCellFloat(sheet, ref, n, -1, 64)
				if strings.Contains(v, ".") {
					f.SetCellStyle(sheet, ref, ref, ms)
				}
				continue
			}
			f.SetCellStr(sheet, ref, v)
		}
	}
	if err := f.SaveAs(out); err != nil {
		t.Fatal(err)
	}
}

// sharedStringsBomb is a small workbook whose one shared string of 1 MiB is referenced by
// 200,000 cells: 200 GB of text once expanded.
func sharedStringsBomb(t *testing.T) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	put := zipPut(t, zw)
	put("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)
	put("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)
	put("xl/sharedStrings.xml", `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>`+strings.Repeat("金额", 1<<20/6)+`</t></si></sst>`)
	var sh strings.Builder
	sh.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for r := 1; r <= 20000; r++ {
		fmt.Fprintf(&sh, `<row r="%d">`, r)
		for c := range 10 {
			fmt.Fprintf(&sh, `<c r="%c%d" t="s"><v>0</v></c>`, 'A'+c, r)
		}
		sh.WriteString(`</row>`)
	}
	sh.WriteString(`</sheetData></worksheet>`)
	put("xl/worksheets/sheet1.xml", sh.String())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// ---- the file cases ----

// fileCase is one spoiled day of files.
type fileCase struct {
	name   string
	layout dayLayout
	// prep, when set, changes the day before the clean run too (the clean run is then the
	// prepared day's).
	prep  func(t *testing.T, src string)
	spoil func(t *testing.T, src string)
	want  want
}

var fileCases = []fileCase{
	{
		name: "order row keyed to another outlet", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, canonCity, "order"), func(x *text) { x.setCell(x.firstRowOf("TY0001-02"), 0, "outlet_id", "TY0002") })
		},
		want: want{same: true, exc: []excWant{{"COUNTER_KEY_CONFLICT", "TY0001-02", "TY0001", "TY0002"}},
			owner: map[string]string{"TY0001-02": "TY0001"}},
	},
	{
		name: "order row keyed to another city", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, canonCity, "order"), func(x *text) { x.setCell(x.firstRowOf("TY0002-03"), 0, "city", "DT") })
		},
		want: want{same: true, exc: []excWant{{"COUNTER_KEY_CONFLICT", "TY0002-03", "TY0002", "DT"}},
			owner: map[string]string{"TY0002-03": "TY0002"}},
	},
	{
		name: "deposit row keyed to another outlet (GBK)", layout: bossCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, bossCity, "deposit"), func(x *text) {
				x.setCell(x.firstRowOf("TY0003-01"), x.headerAt("营业厅编码"), "营业厅编码", "TY0001")
			})
		},
		want: want{same: true, exc: []excWant{{"COUNTER_KEY_CONFLICT", "TY0003-01", "TY0003", "TY0001"}},
			owner: map[string]string{"TY0003-01": "TY0003"}},
	},
	{
		name: "XLSX amounts as numbers shown #,##0 / 0.00 / 0.0", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			p := feedFile(src, canonCity, "deposit")
			xlsxFrom(t, p, filepath.Join(src, "deposit.xlsx"), []sheetSpec{{name: "Sheet1", to: -1, footer: true}},
				[]string{"#,##0", "0.00", "0.0", ""}, nil)
			os.Remove(p)
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH", "FEED_MISSING"}},
	},
	{
		name: "XLSX stored amount 28.913 shown 0.00", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			p := feedFile(src, canonCity, "local_payment")
			xlsxFrom(t, p, filepath.Join(src, "local_payment.xlsx"), []sheetSpec{{name: "Sheet1", to: -1, footer: true}},
				[]string{"0.00"}, map[int]float64{0: 28.913})
			os.Remove(p)
		},
		want: want{code: 0, exc: []excWant{{code: "MALFORMED_ROW", text: "local_payment.xlsx"}}, reject: []string{"28.913"},
			noExc: []string{"FEED_MISSING"}},
	},
	{
		name: "deposit export copied to another folder", layout: canonCity,
		prep: shortfall,
		spoil: func(t *testing.T, src string) {
			copyFile(t, feedFile(src, canonCity, "deposit"), filepath.Join(src, "备份", "deposit.csv"))
		},
		want: want{same: true, exc: []excWant{{code: "DUPLICATE_INPUT", text: "deposit.csv"}, {"DEPOSIT_SHORT", "TY0002-02", "", ""}}},
	},
	{
		name: "deposit re-exported in another row order (rows with slip numbers only)", layout: canonCity,
		prep: func(t *testing.T, src string) {
			shortfall(t, src)
			slipEverywhere(t, src) // the clean day has deposit rows without one; see the next case
		},
		spoil: func(t *testing.T, src string) { reexport(t, src) },
		want:  want{same: true, exc: []excWant{{"DUPLICATE_TXN", "TY0001-01", "", ""}, {"DEPOSIT_SHORT", "TY0002-02", "", ""}}},
	},
	// TODO(contract): the generator writes some deposits without a slip_no, and RULES.md
	// §1 never calls an empty slip a duplicate: a re-export in another row order counts
	// those rows twice. Here TY0001-01's CASH deposit is 100.00 short and has no slip:
	// the re-export turns the real shortfall into a surplus (DEPOSIT_OVER), the run is
	// complete, and DUPLICATE_TXN names only the other rows. Reported; the contract's
	// literal outcome is asserted (default day only: it needs that slip-less row).
	{
		name: "deposit re-exported in another row order (a short row without a slip number)", layout: canonCity,
		prep: func(t *testing.T, src string) {
			if os.Getenv("HARDENING_FAULT_DAY") != "" {
				t.Skip("needs the default day's slip-less CASH deposit of TY0001-01")
			}
			shortOn(t, src, "TY0001-01", "CASH")
		},
		spoil: func(t *testing.T, src string) { reexport(t, src) },
		want: want{code: 0, sameBut: []string{"TY0001-01", "TY0001-02", "TY0002-02", "TY0003-02", "TY0003-03"},
			exc:   []excWant{{"DUPLICATE_TXN", "TY0001-01", "", ""}, {"DEPOSIT_OVER", "TY0001-01", "", "CASH"}},
			noExc: []string{"DEPOSIT_SHORT"}},
	},
	{
		// payment_summary has no key: a second export of it in another order is added to the
		// first, and the summary check says so (ERROR); the settlement does not use it.
		name: "payment summary re-exported in another row order", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			x := readText(t, feedFile(src, canonCity, "payment_summary"))
			body := slices.Clone(x.lines[1 : len(x.lines)-1])
			slices.Reverse(body)
			x.lines = append(append([]string{x.lines[0]}, body...), x.lines[len(x.lines)-1])
			x.write(t, filepath.Join(src, "再导出", "payment_summary.csv"))
		},
		want: want{same: true, exc: []excWant{{"SUMMARY_MISMATCH", "TY0003-03", "", ""}}},
	},
	{
		name: "deposit file holding the order report", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			copyFile(t, feedFile(src, canonCity, "order"), feedFile(src, canonCity, "deposit"))
		},
		want: want{code: 4, exc: []excWant{{code: "FEED_MISSING", text: "是业务办理日报，不是解款日报"}}},
	},
	{
		name: "deposit file holding the order report (GBK)", layout: bossCity,
		spoil: func(t *testing.T, src string) {
			copyFile(t, feedFile(src, bossCity, "order"), feedFile(src, bossCity, "deposit"))
		},
		want: want{code: 4, exc: []excWant{{code: "FEED_MISSING", text: "是业务办理日报，不是解款日报"}}},
	},
	{
		name: "per-counter deposit file holding the counter's order report", layout: bossPerCtr,
		spoil: func(t *testing.T, src string) {
			copyFile(t, counterFile(src, "order", "TY0002-01"), counterFile(src, "deposit", "TY0002-01"))
		},
		want: want{code: 4, exc: []excWant{{"FEED_MISSING", "TY0002-01", "", "是业务办理日报，不是解款日报"}}},
	},
	{
		name: "header repeated mid-file", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, canonCity, "order"), func(x *text) {
				x.lines = slices.Insert(x.lines, 60, x.lines[0])
				x.lines = slices.Insert(x.lines, 120, x.lines[0])
			})
		},
		want: want{same: true, reject: []string{"repeated header"}, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH"}},
	},
	{
		name: "title and header repeated at page breaks (GBK)", layout: bossCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, bossCity, "local_payment"), func(x *text) {
				h := x.headerAt("流水号")
				x.lines = slices.Insert(x.lines, 100, x.lines[:h+1]...)
				x.lines = slices.Insert(x.lines, 300, x.lines[:h+1]...)
			})
		},
		want: want{same: true, reject: []string{"repeated header"}, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH"}},
	},
	{
		name: "title line alone repeated (GBK)", layout: bossCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, bossCity, "deposit"), func(x *text) { x.lines = slices.Insert(x.lines, 10, x.lines[0]) })
		},
		want: want{same: true, reject: []string{"repeated header"}, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH"}},
	},
	{
		name: "header in English repeated in a Chinese export", layout: bossCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, bossCity, "deposit"), func(x *text) {
				x.lines = slices.Insert(x.lines, 12, "biz_date,city,outlet_id,counter_id,pay_method,amount,slip_no")
			})
		},
		want: want{same: true, reject: []string{"repeated header"}, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH"}},
	},
	{
		name: "feed split over two sheets", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			p := feedFile(src, canonCity, "order")
			xlsxFrom(t, p, filepath.Join(src, "order.xlsx"), []sheetSpec{{name: "Sheet1", to: 100}, {name: "Sheet2", from: 100, to: -1, footer: true}}, nil, nil)
			os.Remove(p)
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH", "FEED_MISSING"}},
	},
	{
		name: "workbook with a cover sheet, feed over three sheets", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			p := feedFile(src, canonCity, "local_payment")
			xlsxFrom(t, p, filepath.Join(src, "local_payment.xlsx"), []sheetSpec{{name: "封面", cover: true},
				{name: "第1页", to: 200}, {name: "第2页", from: 200, to: 400}, {name: "第3页", from: 400, to: -1, footer: true}},
				[]string{"#,##0.00"}, nil)
			os.Remove(p)
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH", "FEED_MISSING"}},
	},
	{
		name: "xls-era split at 65,536 rows, footer on the last sheet", layout: canonCity,
		prep: func(t *testing.T, src string) {
			// 66,000 zero-amount orders (no pay method): they count for nothing.
			edit(t, feedFile(src, canonCity, "order"), func(x *text) {
				footer := x.lines[len(x.lines)-1]
				x.lines = x.lines[:len(x.lines)-1]
				for i := range 66000 {
					n := strconv.Itoa(1000000 + i)[1:]
					x.lines = append(x.lines, date+",TY,TY0003,TY0003-02,Z"+n+","+date+" 12:00:00,OZ"+n+",13800000000,NUMSEL,0.00,")
				}
				c := splitCSV(footer)
				n, _ := strconv.Atoi(c[1])
				c[1] = strconv.Itoa(n + 66000)
				x.lines = append(x.lines, csvLine(c...))
			})
		},
		spoil: func(t *testing.T, src string) {
			// Written by hand: excelize takes a minute and a half over 66,000 rows under -race.
			p := feedFile(src, canonCity, "order")
			lines := readText(t, p).lines
			head := lines[0]
			first := lines[:65536] // the header and 65,535 data rows: 65,536 rows, as .xls had
			second := append([]string{head}, lines[65536:]...)
			os.WriteFile(filepath.Join(src, "order.xlsx"), plainWorkbook(t, []plainSheet{{"Sheet1", first}, {"Sheet2", second}}, "amount", nil), 0o644)
			os.Remove(p)
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH", "FEED_MISSING"}},
	},
	{
		name: "header with an extra unknown column", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, canonCity, "order"), func(x *text) {
				for i := range x.lines {
					v := "x"
					if i == 0 {
						v = "remark"
					}
					x.lines[i] += "," + v
				}
			})
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH"}},
	},
	{
		name: "header with an extra unknown column (GBK, 备注)", layout: bossCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, bossCity, "remote_payment"), func(x *text) {
				h := x.headerAt("流水号")
				last := len(x.lines) - 1
				for i := h; i < last; i++ {
					v := "无"
					if i == h {
						v = "备注"
					}
					x.lines[i] = v + "," + x.lines[i]
				}
				// The footer keeps 合计 and its count first; its sum moves with the amount column.
				c := splitCSV(x.lines[last])
				x.lines[last] = csvLine(slices.Insert(c, 2, "")...)
			})
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW"}},
	},
	{
		name: "columns in another order", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, canonCity, "deposit"), func(x *text) {
				x.lines = x.lines[:len(x.lines)-1] // the TOTAL footer (optional in canonical)
				x.permute([]int{6, 5, 4, 3, 2, 1, 0})
			})
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW"}},
	},
	{
		name: "columns in another order, footer kept first", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, canonCity, "order"), func(x *text) {
				footer := x.lines[len(x.lines)-1]
				x.permute([]int{4, 0, 1, 2, 3, 10, 9, 8, 7, 6, 5})
				// Footer: TOTAL, count, then the sum under the amount header (column 6 now).
				c := splitCSV(footer)
				x.lines[len(x.lines)-1] = csvLine("TOTAL", c[1], "", "", "", "", c[9], "", "", "", "")
			})
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH"}},
	},
	{
		name: "XLSX shared strings expanding far beyond the file", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			os.MkdirAll(filepath.Join(src, "extra"), 0o755)
			if err := os.WriteFile(filepath.Join(src, "extra", "order.xlsx"), sharedStringsBomb(t), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		want: want{code: 4, exc: []excWant{{code: "FEED_MISSING", text: "extra/order.xlsx"}}},
	},
	{
		name: "header and title repeated in a per-counter GBK file", layout: bossPerCtr,
		spoil: func(t *testing.T, src string) {
			edit(t, counterFile(src, "local_payment", "TY0003-01"), func(x *text) {
				h := x.headerAt("流水号")
				x.lines = slices.Insert(x.lines, h+20, x.lines[:h+1]...)
			})
		},
		want: want{same: true, reject: []string{"repeated header"}, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH"}},
	},
	{
		name: "header repeated in another column order", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, canonCity, "local_payment"), func(x *text) {
				h := splitCSV(x.lines[0])
				slices.Reverse(h)
				x.lines = slices.Insert(x.lines, 33, csvLine(h...))
			})
		},
		want: want{same: true, reject: []string{"repeated header"}, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH"}},
	},
	{
		name: "blank lines and a repeated header with a trailing empty cell", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			edit(t, feedFile(src, canonCity, "order"), func(x *text) {
				x.lines = slices.Insert(x.lines, 50, "", x.lines[0]+",", "")
			})
		},
		want: want{same: true, reject: []string{"repeated header"}, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH"}},
	},
	{
		name: "header repeated inside an XLSX sheet", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			p := feedFile(src, canonCity, "deposit")
			edit(t, p, func(x *text) { x.lines = slices.Insert(x.lines, 20, x.lines[0]) })
			// xlsxFrom writes numbers only under amount; the repeated header's "amount" cell
			// stays text because it does not parse: write it through a row override instead.
			xlsxFromRepeated(t, p, filepath.Join(src, "deposit.xlsx"))
			os.Remove(p)
		},
		want: want{same: true, reject: []string{"repeated header"}, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH"}},
	},
	{
		name: "deposit saved again as XLSX in another folder (every row with a slip)", layout: canonCity,
		prep: slipEverywhere,
		spoil: func(t *testing.T, src string) {
			xlsxFrom(t, feedFile(src, canonCity, "deposit"), filepath.Join(src, "xlsx", "deposit.xlsx"),
				[]sheetSpec{{name: "Sheet1", to: -1, footer: true}}, []string{"#,##0.00"}, nil)
		},
		want: want{same: true, exc: []excWant{{"DUPLICATE_TXN", "TY0003-03", "", ""}}, noExc: []string{"DUPLICATE_INPUT"}},
	},
	{
		name: "order export copied with a BOM to another folder", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			data, _ := os.ReadFile(feedFile(src, canonCity, "order"))
			os.MkdirAll(filepath.Join(src, "bom"), 0o755)
			os.WriteFile(filepath.Join(src, "bom", "order.csv"), append([]byte("\xef\xbb\xbf"), data...), 0o644)
		},
		want: want{same: true, exc: []excWant{{"DUPLICATE_TXN", "TY0001-01", "", ""}}},
	},
	{
		name: "per-counter file: a row keyed to another city", layout: bossPerCtr,
		spoil: func(t *testing.T, src string) {
			edit(t, counterFile(src, "order", "TY0002-02"), func(x *text) {
				x.setCell(x.firstRowOf("TY0002-02"), x.headerAt("地市"), "地市", "DT")
			})
		},
		want: want{same: true, exc: []excWant{{"COUNTER_KEY_CONFLICT", "TY0002-02", "TY0002", "DT"}},
			owner: map[string]string{"TY0002-02": "TY0002"}},
	},
	{
		name: "purchase XLSX row keyed to another outlet", layout: bossCity,
		spoil: func(t *testing.T, src string) {
			p := filepath.Join(src, "太原_购机日报.xlsx")
			f, err := excelize.OpenFile(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sheet := f.GetSheetList()[0]
			rows, _ := f.GetRows(sheet)
			for i, r := range rows {
				if len(r) > 3 && r[3] == "TY0001-01" {
					ref, _ := excelize.CoordinatesToCellName(3, i+1)
					f.SetCellStr(sheet, ref, "TY0003")
					break
				}
			}
			if err := f.Save(); err != nil {
				t.Fatal(err)
			}
		},
		want: want{same: true, exc: []excWant{{"COUNTER_KEY_CONFLICT", "TY0001-01", "TY0001", "TY0003"}},
			owner: map[string]string{"TY0001-01": "TY0001"}},
	},
	{
		name: "card sales split over two sheets, amounts shown 0.0", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			p := feedFile(src, canonCity, "card_sale")
			xlsxFrom(t, p, filepath.Join(src, "card_sale.xlsx"), []sheetSpec{{name: "A", to: 5}, {name: "B", from: 5, to: -1, footer: true}}, []string{"0.0"}, nil)
			os.Remove(p)
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH", "FEED_MISSING"}},
	},
	{
		// As Excel stores a double: 17 significant digits, so a sum's noise is in the file.
		name: "XLSX amounts stored with binary noise (one ULP off, 17 digits)", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			p := feedFile(src, canonCity, "order")
			i := 0
			noisy := func(v string) string {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f == 0 {
					return v
				}
				i++
				if i%2 == 0 {
					f = math.Nextafter(f, math.Inf(1))
				} else {
					f = math.Nextafter(f, math.Inf(-1))
				}
				return strconv.FormatFloat(f, 'g', 17, 64)
			}
			os.WriteFile(filepath.Join(src, "order.xlsx"), plainXLSX(t, readText(t, p).lines, "amount", noisy), 0o644)
			os.Remove(p)
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH", "FEED_MISSING"}},
	},
	{
		name: "XLSX of inline strings, cells and rows without references", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			p := feedFile(src, canonCity, "local_payment")
			os.WriteFile(filepath.Join(src, "local_payment.xlsx"), plainXLSX(t, readText(t, p).lines, "amount", nil), 0o644)
			os.Remove(p)
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH", "FEED_MISSING"}},
	},
	{
		// As Excel re-saves a CSV: dates and times become date serials, numeric text numbers.
		name: "XLSX re-saves with typed cells: date serials, counts and codes as numbers", layout: canonCity,
		spoil: func(t *testing.T, src string) {
			for _, f := range []string{"invoice", "payment_summary", "reversal", "remote_payment"} {
				p := feedFile(src, canonCity, f)
				typedXLSX(t, p, filepath.Join(src, f+".xlsx"))
				os.Remove(p)
			}
		},
		want: want{same: true, noExc: []string{"MALFORMED_ROW", "FEED_TOTAL_MISMATCH", "FEED_MISSING", "WRONG_DATE", "INVOICE_GAP",
			"INVOICE_ORPHAN", "INVOICE_DUPLICATE", "SUMMARY_MISMATCH", "REVERSAL_ORPHAN"}},
	},
	{
		name: "per-counter file holding a row of another counter", layout: bossPerCtr,
		spoil: func(t *testing.T, src string) {
			other := readText(t, counterFile(src, "local_payment", "TY0001-03"))
			row := other.lines[other.firstRowOf("TY0001-03")]
			edit(t, counterFile(src, "local_payment", "TY0001-01"), func(x *text) {
				addRow(t, x, row, x.headerAt("金额"))
			})
		},
		want: want{same: true, exc: []excWant{{"MALFORMED_ROW", "TY0001-01", "TY0001", "TY0001-03"}},
			noExc: []string{"FEED_TOTAL_MISMATCH", "DUPLICATE_TXN"}},
	},
	{
		name: "per-counter file holding a row of another outlet's counter", layout: bossPerCtr,
		spoil: func(t *testing.T, src string) {
			other := readText(t, counterFile(src, "order", "TY0003-02"))
			row := other.lines[other.firstRowOf("TY0003-02")]
			edit(t, counterFile(src, "order", "TY0001-01"), func(x *text) {
				addRow(t, x, row, x.headerAt("金额"))
			})
		},
		want: want{same: true, exc: []excWant{{"MALFORMED_ROW", "TY0001-01", "TY0001", "TY0003-02"}},
			noExc: []string{"FEED_TOTAL_MISMATCH", "DUPLICATE_TXN", "COUNTER_KEY_CONFLICT"}},
	},
	{
		name: "CSV copy of a per-counter file in another folder", layout: bossPerCtr,
		spoil: func(t *testing.T, src string) {
			p := counterFile(src, "deposit", "TY0002-03")
			copyFile(t, p, filepath.Join(src, "重发", filepath.Base(p)))
		},
		want: want{same: true, exc: []excWant{{"DUPLICATE_INPUT", "TY0002-03", "TY0002", "重发"}}},
	},
	{
		// TY0002-02's own deposit report is gone: its rows are TY0002-01's, set aside as
		// MALFORMED_ROW (RULES.md §1); TY0002-01's genuine report is read. The run stays
		// complete (RULES.md §9 names only FEED_MISSING and FEED_TOTAL_MISMATCH).
		name: "per-counter file copied under another counter's name", layout: bossPerCtr,
		spoil: func(t *testing.T, src string) {
			// TY0002-01's deposit report saved as TY0002-02's: byte-identical to TY0002-01's.
			copyFile(t, counterFile(src, "deposit", "TY0002-01"), counterFile(src, "deposit", "TY0002-02"))
		},
		want: want{code: 0, sameBut: []string{"TY0002-02"}, exc: []excWant{{"MALFORMED_ROW", "TY0002-02", "TY0002", "TY0002-01"}},
			noExc: []string{"DUPLICATE_INPUT"}},
	},
	{
		// The copy sorts first and its rows are all another counter's (MALFORMED_ROW);
		// TY0002-03's genuine report, byte-identical but of another counter, is no repeat of
		// it (DUPLICATE_INPUT compares a counter's inputs only: docs/DECISIONS.md) and is read,
		// so TY0002-03's deposits stand.
		name: "per-counter file saved under an earlier counter's name", layout: bossPerCtr,
		spoil: func(t *testing.T, src string) {
			copyFile(t, counterFile(src, "deposit", "TY0002-03"), counterFile(src, "deposit", "TY0002-01"))
		},
		want: want{code: 0, sameBut: []string{"TY0002-01"}, exc: []excWant{{"MALFORMED_ROW", "TY0002-01", "TY0002", "TY0002-03"}},
			noExc: []string{"DUPLICATE_INPUT"}},
	},
	{
		// A file named for a counter no row names is city-wide (connectors/file): its rows
		// count, and the genuine file repeating it is DUPLICATE_INPUT; the money is whole.
		name: "per-counter file copied under an unknown counter's name", layout: bossPerCtr,
		spoil: func(t *testing.T, src string) {
			copyFile(t, counterFile(src, "deposit", "TY0001-01"), filepath.Join(src, "TY0000", "太原_TY0000-09_解款日报.csv"))
		},
		want: want{same: true, exc: []excWant{{"DUPLICATE_INPUT", "TY0001-01", "TY0001", "TY0000-09"}}},
	},
	{
		// TODO(contract): as above, the counter's own rows never arrive; MALFORMED_ROW only.
		name: "per-counter file re-exported under another counter's name", layout: bossPerCtr,
		spoil: func(t *testing.T, src string) {
			x := readText(t, counterFile(src, "deposit", "TY0002-01"))
			x.crlf = false // the same rows, other bytes
			x.write(t, counterFile(src, "deposit", "TY0002-02"))
		},
		want: want{code: 0, sameBut: []string{"TY0002-02"}, exc: []excWant{{"MALFORMED_ROW", "TY0002-02", "TY0002", "TY0002-01"}}},
	},
}

// addRow inserts a data line before a BOSS file's 合计 footer and updates the footer.
func addRow(t *testing.T, x *text, row string, header int) {
	t.Helper()
	last := len(x.lines) - 1
	footer := splitCSV(x.lines[last])
	if footer[0] != "合计" && footer[0] != "TOTAL" {
		t.Fatalf("no footer: %q", x.lines[last])
	}
	col := slices.Index(splitCSV(x.lines[header]), "金额")
	n, _ := strconv.Atoi(footer[1])
	footer[1] = strconv.Itoa(n + 1)
	footer[col] = addMoney(t, footer[col], splitCSV(row)[col])
	x.lines = append(x.lines[:last], row, csvLine(footer...))
}

func addMoney(t *testing.T, a, b string) string {
	t.Helper()
	fen := func(s string) int64 {
		s = strings.ReplaceAll(s, ",", "")
		w, f, _ := strings.Cut(s, ".")
		f = (f + "00")[:2]
		v, err := strconv.ParseInt(w+f, 10, 64)
		if err != nil {
			t.Fatalf("money %q: %v", s, err)
		}
		return v
	}
	s := fen(a) + fen(b)
	return fmt.Sprintf("%d.%02d", s/100, s%100)
}

// slipEverywhere gives every deposit row a slip number.
func slipEverywhere(t *testing.T, src string) {
	edit(t, feedFile(src, canonCity, "deposit"), func(x *text) {
		for i := 1; i < len(x.lines); i++ {
			if c := splitCSV(x.lines[i]); c[0] != "TOTAL" && c[6] == "" {
				x.setCell(i, 0, "slip_no", fmt.Sprintf("JKX%03d", i))
			}
		}
	})
}

// xlsxFromRepeated writes a canonical CSV whose header is repeated mid-file as a workbook
// of one sheet: amounts as numbers, the repeated header as text.
func xlsxFromRepeated(t *testing.T, csvPath, out string) {
	t.Helper()
	x := readText(t, csvPath)
	f := excelize.NewFile()
	defer f.Close()
	for i, l := range x.lines {
		for j, v := range splitCSV(l) {
			ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if n, err := strconv.ParseFloat(v, 64); err == nil && j == 5 {
				f.SetCellFloat("Sheet1", ref, n, -1, 64)
				continue
			}
			f.SetCellStr("Sheet1", ref, v)
		}
	}
	if err := f.SaveAs(out); err != nil {
		t.Fatal(err)
	}
}

// shortfall takes 100.00 off TY0002-02's cash deposit: a real 短款 that must survive.
func shortfall(t *testing.T, src string) { shortOn(t, src, "TY0002-02", "CASH") }

// shortOn takes 100.00 off a counter's deposit of a pay method.
func shortOn(t *testing.T, src, counter, method string) {
	edit(t, feedFile(src, canonCity, "deposit"), func(x *text) {
		for i, l := range x.lines {
			c := splitCSV(l)
			if len(c) > 5 && c[3] == counter && c[4] == method {
				v := addMoney(t, c[5], "0.00")
				fen, _ := strconv.ParseInt(strings.ReplaceAll(v, ".", ""), 10, 64)
				fen -= 10000
				x.setCell(i, 0, "amount", fmt.Sprintf("%d.%02d", fen/100, fen%100))
				// The footer's sum no longer matches: drop it (it is optional in canonical).
				if f := splitCSV(x.lines[len(x.lines)-1]); f[0] == "TOTAL" {
					x.lines = x.lines[:len(x.lines)-1]
				}
				return
			}
		}
		t.Fatalf("no %s deposit of %s", method, counter)
	})
}

// reexport writes the deposit file again, rows reversed, into another folder.
func reexport(t *testing.T, src string) {
	x := readText(t, feedFile(src, canonCity, "deposit"))
	body := x.lines[1:]
	var footer []string
	if f := splitCSV(body[len(body)-1]); f[0] == "TOTAL" {
		footer, body = body[len(body)-1:], body[:len(body)-1]
	}
	body = slices.Clone(body)
	slices.Reverse(body)
	x.lines = append(append([]string{x.lines[0]}, body...), footer...)
	x.write(t, filepath.Join(src, "再导出", "deposit.csv"))
}

// generate writes the clean day of layout l into a new directory.
func generate(t *testing.T, l dayLayout) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	// HARDENING_FAULT_DAY="SEED ANOMALIES" runs the table over another day (by hand).
	seed, anomalies := "1", "0"
	if v := os.Getenv("HARDENING_FAULT_DAY"); v != "" {
		seed, anomalies, _ = strings.Cut(v, " ")
	}
	args := []string{"fixtures", "generate", "--date", date, "--out", src, "--outlets", "3", "--counters", "3", "--seed", seed, "--anomalies", anomalies}
	switch l {
	case bossCity:
		args = append(args, "--dialect", "boss")
	case bossPerCtr:
		args = append(args, "--dialect", "boss", "--layout", "counter")
	}
	mustRun(t, 0, env(t.TempDir()), args...)
	if err := os.Remove(filepath.Join(src, "truth.csv")); err != nil {
		t.Fatal(err)
	}
	return src
}

// TestFaultTable runs each fileCase: clean day, then the spoiled day, and checks the exact
// outcome.
func TestFaultTable(t *testing.T) {
	t.Parallel()
	type base struct {
		src   string
		clean ran
	}
	bases := map[dayLayout]*base{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, l := range []dayLayout{canonCity, bossCity, bossPerCtr} {
		b := &base{src: generate(t, l)}
		bases[l] = b
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := runOnce(t, b.src)
			mu.Lock()
			b.clean = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	for l, b := range bases {
		if b.clean.code != 0 || os.Getenv("HARDENING_FAULT_DAY") == "" && (len(b.clean.exceptions) != 0 || len(b.clean.rejects) != 0) {
			t.Fatalf("the clean %s day: exit %d, %d exceptions, %d rejects:\n%s", l, b.clean.code, len(b.clean.exceptions), len(b.clean.rejects), rowsText(b.clean.exceptions, 10))
		}
	}
	if !bytes.Equal(bases[canonCity].clean.settlement, bases[bossCity].clean.settlement) ||
		!bytes.Equal(bases[canonCity].clean.settlement, bases[bossPerCtr].clean.settlement) {
		t.Errorf("the three layouts of one day settle differently")
	}
	for _, c := range fileCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := bases[c.layout]
			src := filepath.Join(t.TempDir(), "src")
			if err := os.CopyFS(src, os.DirFS(b.src)); err != nil {
				t.Fatal(err)
			}
			clean := b.clean
			if c.prep != nil {
				c.prep(t, src)
				clean = runOnce(t, src)
				if clean.code != 0 {
					t.Fatalf("the prepared day: exit %d\n%s", clean.code, tail(clean.stderr, 2000))
				}
			}
			c.spoil(t, src)
			got := runOnce(t, src)
			c.want.check(t, clean, got)
			t.Logf("exit %d, %d exceptions, %d rejects, max RSS %d MiB", got.code, len(got.exceptions), len(got.rejects), got.rss>>20)
		})
	}
}

// ---- the report API cases ----

// apiCase is one hostile report API.
type apiCase struct {
	name    string
	hostile []string // --hostile values
	// wrap, when set, stands between settle and the simulator.
	wrap func(t *testing.T, sim http.Handler) http.Handler
	want want
}

// cutRoster answers the roster with f applied to its lines.
func cutRoster(f func(lines []string) []string) func(t *testing.T, h http.Handler) http.Handler {
	return func(t *testing.T, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/counters" {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			lines := strings.Split(strings.TrimSuffix(rec.Body.String(), "\n"), "\n")
			w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
			w.Write([]byte(strings.Join(f(lines), "\n") + "\n"))
		})
	}
}

var apiCases = []apiCase{
	{
		name: "a pull of another feed's report", hostile: []string{"deposit/TY0001-02=other-feed:order"},
		want: want{code: 4, exc: []excWant{{"FEED_MISSING", "TY0001-02", "TY0001", "是业务办理日报，不是解款日报"}}},
	},
	{
		name: "an order pull holding the deposit report", hostile: []string{"order/TY0002-01=other-feed:deposit"},
		want: want{code: 4, exc: []excWant{{"FEED_MISSING", "TY0002-01", "TY0002", ""}}},
	},
	{
		// TODO(contract): the pulled counter's own rows never arrive, yet only MALFORMED_ROW
		// is raised and the run is complete (RULES.md §1, §9 read literally). The body is
		// byte-identical to TY0003-02's own order pull, which comes later: that is no repeat
		// (another counter's input), so TY0003-02's order revenue stands.
		name: "a pull holding another counter's rows", hostile: []string{"order/TY0001-01=other-counter:TY0003-02"},
		want: want{code: 0, sameBut: []string{"TY0001-01"}, exc: []excWant{{"MALFORMED_ROW", "TY0001-01", "TY0001", "TY0003-02"}},
			noExc: []string{"DUPLICATE_INPUT"}},
	},
	{
		// TODO(contract): the later pull holds the earlier counter's bytes: its rows are
		// TY0001-01's (MALFORMED_ROW), TY0003-02's own order rows are missing, the run is
		// complete (RULES.md §9 read literally).
		name: "a pull holding an earlier counter's rows", hostile: []string{"order/TY0003-02=other-counter:TY0001-01"},
		want: want{code: 0, sameBut: []string{"TY0003-02"}, exc: []excWant{{"MALFORMED_ROW", "TY0003-02", "TY0003", "TY0001-01"}},
			noExc: []string{"DUPLICATE_INPUT"}},
	},
	{
		name: "roster cut at a line boundary before its footer",
		wrap: cutRoster(func(l []string) []string { return l[:len(l)-1] }),
		want: want{code: 1},
	},
	{
		name: "roster cut at a line boundary, a counter and the footer lost",
		wrap: cutRoster(func(l []string) []string { return l[:len(l)-2] }),
		want: want{code: 1},
	},
	{
		name: "roster whose footer counts one row more",
		wrap: cutRoster(func(l []string) []string { return append(l[:len(l)-2], "合计,"+strconv.Itoa(len(l)-2)) }),
		want: want{code: 1},
	},
	{
		name: "roster cut in the middle of a line",
		wrap: cutRoster(func(l []string) []string { return append(l[:len(l)-2], l[len(l)-2][:7]) }),
		want: want{code: 1},
	},
	{
		name: "endless roster",
		wrap: func(t *testing.T, h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/counters" {
					h.ServeHTTP(w, r)
					return
				}
				w.Header().Set("Content-Type", "text/csv; charset=UTF-8")
				w.Write([]byte("city,outlet_id,counter_id\n"))
				line := []byte(strings.Repeat("TY,TY0001,TY0001-01\n", 4096))
				for n := 0; n < 4<<30 && r.Context().Err() == nil; n += len(line) {
					if _, err := w.Write(line); err != nil {
						return
					}
				}
			})
		},
		want: want{code: 1},
	},
	{
		name: "gzip bomb roster",
		wrap: func(t *testing.T, h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/counters" {
					h.ServeHTTP(w, r)
					return
				}
				// A pull that is a gzip bomb, served for the roster.
				rec := httptest.NewRecorder()
				q := r.Clone(r.Context())
				q.URL.Path, q.URL.RawQuery = "/reports/order", "date="+date+"&counter=TY0001-01"
				h.ServeHTTP(rec, q)
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Type", "text/csv; charset=UTF-8")
				w.Write(rec.Body.Bytes())
			})
		},
		hostile: []string{"order/TY0001-01=gzip-bomb"},
		want:    want{code: 1},
	},
	{
		name: "a pulled row keyed to another outlet",
		wrap: func(t *testing.T, h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/reports/local_payment" || r.URL.Query().Get("counter") != "TY0001-02" {
					h.ServeHTTP(w, r)
					return
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				body, err := simplifiedchinese.GB18030.NewDecoder().Bytes(rec.Body.Bytes())
				if err != nil {
					t.Error(err)
				}
				body = bytes.Replace(body, []byte(",TY0001,TY0001-02,"), []byte(",TY0002,TY0001-02,"), 1)
				w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
				w.Write(gbk(t, string(body)))
			})
		},
		want: want{same: true, exc: []excWant{{"COUNTER_KEY_CONFLICT", "TY0001-02", "TY0001", "TY0002"}}, owner: map[string]string{"TY0001-02": "TY0001"}},
	},
	{
		name: "gzip bombs and endless bodies",
		hostile: []string{"order/TY0001-01=gzip-bomb", "invoice/TY0001-02=gzip-bomb", "local_payment/TY0002-01=gzip-bomb",
			"remote_payment/TY0002-02=endless", "invoice/TY0003-01=endless", "order/TY0003-03=endless"},
		want: want{code: 4, sameBut: []string{"TY0001-01", "TY0002-01", "TY0002-02", "TY0003-03"}, exc: []excWant{{"FEED_MISSING", "TY0001-01", "", "limit"}, {"FEED_MISSING", "TY0002-02", "", "limit"},
			{"FEED_MISSING", "TY0003-03", "", "limit"}, {"FEED_MISSING", "TY0001-02", "", "limit"}, {"FEED_MISSING", "TY0003-01", "", "limit"},
			{"FEED_MISSING", "TY0002-01", "", "limit"}}},
	},
}

// serveDay serves the small clean day through the simulator with hostile pulls, on
// 127.0.0.1; wrap (optional) stands in front.
func serveDay(t *testing.T, hostile []string, wrap func(*testing.T, http.Handler) http.Handler) string {
	t.Helper()
	gc := fixtures.NewConfig()
	gc.Date, _ = time.Parse("2006-01-02", date)
	gc.Outlets, gc.Counters = 3, 3
	day, err := fixtures.Generate(gc)
	if err != nil {
		t.Fatal(err)
	}
	sc := sim.NewConfig()
	sc.Hostile = map[sim.Pull]sim.Hostile{}
	for _, v := range hostile {
		p, h, err := sim.ParseHostile(v)
		if err != nil {
			t.Fatal(err)
		}
		sc.Hostile[p] = h
	}
	s, err := sim.New(day, sc)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = s
	if wrap != nil {
		h = wrap(t, s)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// apiEnv keeps retries and timeouts short.
var apiEnv = []string{"SETTLE_BOSS_RETRIES=2", "SETTLE_BOSS_PULL_TIMEOUT=60s"}

func TestFaultTableAPI(t *testing.T) {
	t.Parallel()
	clean := runOnce(t, serveDay(t, nil, nil), apiEnv...)
	if clean.code != 0 || len(clean.exceptions) != 0 {
		t.Fatalf("the clean pulled day: exit %d, %d exceptions\n%s", clean.code, len(clean.exceptions), tail(clean.stderr, 2000))
	}
	for _, c := range apiCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := runOnce(t, serveDay(t, c.hostile, c.wrap), apiEnv...)
			c.want.check(t, clean, got)
			if got.code != 1 {
				// No ghost counter: every counter of settlement.csv is on the roster.
				for _, r := range readCSV(t, filepath.Join(got.dir, "settlement.csv")) {
					if !strings.HasPrefix(r[3], r[2]+"-") {
						t.Errorf("settlement.csv: counter %s under outlet %s", r[3], r[2])
					}
				}
			}
			t.Logf("exit %d, %d exceptions, max RSS %d MiB", got.code, len(got.exceptions), got.rss>>20)
		})
	}
}

// TestRedirectToHTTP: an https base whose server redirects to http (and to https on
// another port) is not followed, and the token reaches neither.
func TestRedirectToHTTP(t *testing.T) {
	t.Parallel()
	const token = "s3cret-token-value"
	var mu sync.Mutex
	var seen []string
	sink := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.String()+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte("city,outlet_id,counter_id\nTY,TY0001,TY0001-01\n合计,1\n"))
	}
	listen := func() net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	plain := httptest.NewUnstartedServer(http.HandlerFunc(sink))
	plain.Listener.Close()
	plain.Listener = listen()
	plain.Start()
	defer plain.Close()
	other := httptest.NewUnstartedServer(http.HandlerFunc(sink))
	other.Listener.Close()
	other.Listener = listen()
	other.StartTLS()
	defer other.Close()

	roster := serveDay(t, nil, nil)
	for _, c := range []struct {
		name, target string
		pulls        bool // the roster and the pulls are answered, TY0002-02's pulls redirected
	}{{"roster to http", plain.URL, false}, {"roster to another port", other.URL, false}, {"one counter's pulls to http", plain.URL, true}} {
		t.Run(c.name, func(t *testing.T) {
			target := c.target
			base := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.pulls && r.URL.Query().Get("counter") != "TY0002-02" {
					resp, err := http.Get(roster + r.URL.RequestURI())
					if err != nil {
						t.Error(err)
						return
					}
					defer resp.Body.Close()
					w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
					io.Copy(w, resp.Body)
					return
				}
				http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusFound)
			}))
			base.Listener.Close()
			base.Listener = listen()
			base.TLS = &tls.Config{Certificates: other.TLS.Certificates}
			base.StartTLS()
			defer base.Close()
			ca := filepath.Join(t.TempDir(), "ca.pem")
			cert := base.Certificate()
			if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
				t.Fatal(err)
			}
			got := runOnce(t, base.URL, append(slices.Clone(apiEnv), "SETTLE_BOSS_TOKEN="+token, "SETTLE_BOSS_CA_FILE="+ca)...)
			if c.pulls {
				// The counter's nine pulls fail at once: FEED_MISSING, the run incomplete.
				if n := countCode(got.exceptions, "FEED_MISSING"); n != 9 {
					t.Errorf("%d FEED_MISSING, want 9 (TY0002-02's pulls)", n)
				}
				want{code: 4, exc: []excWant{{"FEED_MISSING", "TY0002-02", "TY0002", "refused"}}}.check(t, got, got)
			} else {
				if got.code != 1 {
					t.Errorf("want exit 1 (the roster cannot be pulled), got %d\n%s", got.code, tail(got.stderr, 2000))
				}
				if !strings.Contains(got.stderr, "refused") {
					t.Errorf("stderr does not say the redirect was refused:\n%s", tail(got.stderr, 2000))
				}
			}
			if strings.Contains(got.stderr, token) {
				t.Errorf("the token is in stderr")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) > 0 {
				t.Errorf("the redirect was followed: %v", seen)
			}
		})
	}
}
