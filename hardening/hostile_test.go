package hardening

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/csv"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// The hostile counter: valid ids, so it gets reports, fed text that attacks them.
const (
	evilOutlet  = "EVIL"
	evilCounter = "EVIL-01"
)

// formulas are texts a spreadsheet would take for formulas if written as such.
var formulas = []string{`=HYPERLINK("http://x","y")`, "+1", "@SUM(A1)", "-2+3", "=1+1"}

// pathIDs are ids that would escape the reports folder if used as path elements.
var pathIDs = []string{"../../etc/x", "/abs", `a\b`, "..", ".", "x/../../y", "C:evil", "NUL\x00x"}

// nonBMP is text beyond U+FFFF (a CJK extension B character and emoji).
const nonBMP = "𠮷野家 😀👍🏽 退款"

// cleanDay writes a small clean day in the canonical dialect into a new directory.
func cleanDay(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	mustRun(t, 0, env(t.TempDir()), "fixtures", "generate", "--date", date, "--out", src,
		"--outlets", "3", "--counters", "2", "--anomalies", "0")
	if err := os.Remove(filepath.Join(src, "truth.csv")); err != nil {
		t.Fatal(err)
	}
	return src
}

// csvLine renders one CSV record (quoted where needed) without a line end.
func csvLine(fields ...string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(fields)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// appendRows adds lines to a canonical feed file in place of its TOTAL footer (the footer
// is optional; it would no longer match). end is written after the last line ("" for none).
func appendRows(t *testing.T, path string, end string, lines ...string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimRight(string(data), "\n")
	if i := strings.LastIndex(text, "\n"); i >= 0 && strings.HasPrefix(text[i+1:], "TOTAL,") {
		text = text[:i]
	}
	text += "\n" + strings.Join(lines, "\n") + end
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// garbage returns n bytes of random binary that hold no line end and no quote (a quote
// would legitimately join the lines up to the next one into one CSV record).
func garbage(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		for {
			c := byte(r.UintN(256))
			if c != '\n' && c != '\r' && c != '"' {
				b[i] = c
				break
			}
		}
	}
	return b
}

// zipBomb returns a small XLSX-looking zip whose worksheet inflates to inflated bytes of
// zeros but whose header declares declared bytes.
func zipBomb(t *testing.T, inflated int, declared uint64) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	crc := crc32.NewIEEE()
	for range inflated >> 20 {
		fw.Write(zeros)
		crc.Write(zeros)
	}
	fw.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
	} {
		zipPut(t, zw)(f.name, f.body)
	}
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CRC32: crc.Sum32(),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: declared,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// gbk encodes UTF-8 text as GBK.
func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostile is one way of spoiling a clean day.
type hostile struct {
	name string
	// spoil changes the copy of the clean day in src.
	spoil func(t *testing.T, src string, r *rand.Rand)
	// code is the exit code: 0, or 4 when an unreadable input makes the run incomplete.
	code int
	// want are texts exceptions.csv or rejects.csv must hold.
	want []string
	// evil: the hostile counter has valid rows, so it is in settlement.csv and has reports.
	evil bool
}

var hostiles = []hostile{
	{
		name: "path-like ids",
		spoil: func(t *testing.T, src string, r *rand.Rand) {
			var lines []string
			for i, id := range pathIDs {
				n := string(rune('a' + i))
				lines = append(lines,
					csvLine(date, "TY", id, "TY0001-01", "TP"+n+"1", date+" 10:00:00", "O1", "13800000000", "OPEN", "10.00", "CASH"),
					csvLine(date, "TY", "TY0001", id, "TP"+n+"2", date+" 10:00:00", "O1", "13800000000", "OPEN", "10.00", "CASH"),
					csvLine(date, id, id, id, "TP"+n+"3", date+" 10:00:00", "O1", "13800000000", "OPEN", "10.00", "CASH"))
			}
			appendRows(t, filepath.Join(src, "order.csv"), "\n", lines...)
		},
		want: []string{"MALFORMED_ROW", "../../etc/x", "outlet_id", "is not an id"},
	},
	{
		name: "formulas, non-BMP text, a 200 KB field, a line without an end",
		spoil: func(t *testing.T, src string, r *rand.Rand) {
			var order []string
			for i, f := range formulas {
				n := string(rune('a' + i))
				// A valid order of the hostile counter whose texts look like formulas...
				order = append(order, csvLine(date, "TY", evilOutlet, evilCounter, f+n, date+" 09:00:00", f, f, "OPEN", "10.00", "CASH"))
				// ...and a malformed row of a good counter whose bad amount looks like one.
				order = append(order, csvLine(date, "TY", "TY0001", "TY0001-01", "TF"+n, date+" 09:00:00", f, "13800000000", "OPEN", f, "CASH"))
			}
			appendRows(t, filepath.Join(src, "order.csv"), "\n", order...)
			huge := nonBMP + " " + strings.Repeat("金额错误𠮷😀,\"", 200<<10/30) + " END"
			appendRows(t, filepath.Join(src, "reversal.csv"), "", // no line end after the last line
				csvLine(date, "TY", evilOutlet, evilCounter, "R-EVIL-1", date+" 11:00:00", formulas[0]+"a", date, "order", "REFUND", "1.00", "CASH", "=cmd|' /C calc'!A0", huge))
			appendRows(t, filepath.Join(src, "deposit.csv"), "",
				csvLine(date, "TY", evilOutlet, evilCounter, "CASH", "49.00", "@SUM(1+1)*cmd|' /C calc'!A0"))
		},
		want: []string{"MALFORMED_ROW", `amount "=1+1"`, `amount "@SUM(A1)"`},
		evil: true,
	},
	{
		name: "binary garbage lines",
		spoil: func(t *testing.T, src string, r *rand.Rand) {
			p := filepath.Join(src, "local_payment.csv")
			data, _ := os.ReadFile(p)
			for _, c := range data {
				if c >= 0x80 {
					t.Fatalf("%s is not ASCII: garbage would change how it decodes", p)
				}
			}
			var lines []string
			for range 8 {
				lines = append(lines, string(garbage(r, 1+r.IntN(300))))
			}
			lines = append(lines, "\x00\x00\x00,\x00,\x00", "\xff\xfe\x00B\x00O\x00M", strings.Repeat(",", 5000))
			appendRows(t, p, "\n", lines...)
		},
		want: []string{"MALFORMED_ROW", "local_payment"},
	},
	{
		name: "a CSV that claims GBK but is not",
		spoil: func(t *testing.T, src string, r *rand.Rand) {
			var b bytes.Buffer
			b.Write(gbk(t, "太原分公司 本地缴费日报 "+date+"\r\n"))
			b.Write(gbk(t, "账务日期,地市,营业厅编码,工号,流水号,受理时间,手机号码,账户编码,金额,支付方式\r\n"))
			for range 20 {
				for j := range 10 {
					if j > 0 {
						b.WriteByte(',')
					}
					for range 1 + r.IntN(12) {
						b.WriteByte(byte(0x80 + r.UintN(0x80)))
					}
				}
				b.WriteString("\r\n")
			}
			os.MkdirAll(filepath.Join(src, "extra"), 0o755)
			if err := os.WriteFile(filepath.Join(src, "extra", "太原_本地缴费日报.csv"), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		want: []string{"MALFORMED_ROW", "extra/太原_本地缴费日报.csv:3"},
	},
	{
		name: "an XLSX zip bomb declaring its size",
		spoil: func(t *testing.T, src string, r *rand.Rand) {
			os.MkdirAll(filepath.Join(src, "extra"), 0o755)
			if err := os.WriteFile(filepath.Join(src, "extra", "purchase.xlsx"), zipBomb(t, 16<<20, 4<<30), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		code: 4,
		want: []string{"FEED_MISSING", "extra/purchase.xlsx", "zip bomb"},
	},
	{
		name: "an XLSX zip bomb lying about its size",
		spoil: func(t *testing.T, src string, r *rand.Rand) {
			os.MkdirAll(filepath.Join(src, "extra"), 0o755)
			os.MkdirAll(filepath.Join(src, "extra", "lying"), 0o755)
			if err := os.WriteFile(filepath.Join(src, "extra", "lying", "purchase.xlsx"), zipBomb(t, 64<<20, 1<<10), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		code: 4,
		want: []string{"FEED_MISSING", "extra/lying/purchase.xlsx"},
	},
	{
		name: "an XLSX that is not a zip",
		spoil: func(t *testing.T, src string, r *rand.Rand) {
			os.MkdirAll(filepath.Join(src, "extra"), 0o755)
			data := append([]byte("PK\x03\x04 not really a workbook\n"), garbage(r, 4096)...)
			if err := os.WriteFile(filepath.Join(src, "extra", "deposit.xlsx"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		code: 4,
		want: []string{"FEED_MISSING", "extra/deposit.xlsx", "not an xlsx workbook"},
	},
	{
		name: "a feed file of random bytes",
		spoil: func(t *testing.T, src string, r *rand.Rand) {
			data := make([]byte, 64<<10)
			for i := range data {
				data[i] = byte(r.UintN(256))
			}
			os.MkdirAll(filepath.Join(src, "extra"), 0o755)
			if err := os.WriteFile(filepath.Join(src, "extra", "card_sale.csv"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		code: 4,
		want: []string{"FEED_MISSING", "extra/card_sale.csv", "no header line"},
	},
}

// TestHostileInput runs a clean day, then the same day spoiled in each way of hostiles and
// in all of them at once: every run is published (exit 0, or 4 when an unreadable input
// makes it incomplete) without a panic; the spoiling is named in exceptions or rejects; the
// settlement and deposit check of the good counters are those of the clean day; nothing is
// written outside the store, reports are only under reports/<valid id>/, and no XLSX cell
// of any report is a formula.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	clean := cleanDay(t)
	baseStore := filepath.Join(t.TempDir(), "store")
	mustRun(t, 0, env(t.TempDir()), "run", "--date", date, "--source", clean, "--store", baseStore, "--quiet")
	baseDir, _ := currentRun(t, baseStore)
	base := readCSV(t, filepath.Join(baseDir, "settlement.csv"))
	baseVar := readCSV(t, filepath.Join(baseDir, "variance.csv"))

	all := hostile{name: "all at once", code: 4, evil: true}
	for _, h := range hostiles {
		all.want = append(all.want, h.want...)
	}
	all.spoil = func(t *testing.T, src string, r *rand.Rand) {
		for _, h := range hostiles {
			h.spoil(t, src, r)
		}
	}
	for i, h := range append(slices.Clone(hostiles), all) {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			top := t.TempDir() // holds the source, the store and the child's TMPDIR and cwd
			src := filepath.Join(top, "src")
			if err := os.CopyFS(src, os.DirFS(clean)); err != nil {
				t.Fatal(err)
			}
			h.spoil(t, src, rand.New(rand.NewPCG(uint64(i), 7)))
			srcBefore := tree(t, src)
			st := filepath.Join(top, "store")
			tmp := filepath.Join(top, "tmp")
			os.Mkdir(tmp, 0o755)
			r := settleIn(t, tmp, env(tmp), "run", "--date", date, "--source", src, "--store", st, "--lang", "en", "--quiet") // the wants below are the English details
			if r.code != h.code {
				t.Fatalf("want exit %d, got\n%s", h.code, r)
			}
			dir, _ := currentRun(t, st)
			if cur, leftovers := storeState(t, st); len(leftovers) > 0 {
				t.Errorf("leftovers %v beside %s", leftovers, cur)
			}

			// Nothing outside the store: the source is as it was, TMPDIR and cwd are empty.
			sameTree(t, "the source before and after the run", srcBefore, tree(t, src))
			noFilesOutside(t, top, "src", "store/"+date, "tmp")
			noFilesOutside(t, tmp)
			files := tree(t, dir)
			for p, e := range files {
				if !runPath.MatchString(p) {
					t.Errorf("%q is not a path of a run (OUTPUTS.md): reports/<outlet>/<counter>.xlsx|pdf, the roll-ups' .xlsx|pdf and the run's own files", p)
				}
				if e.kind != "file" && e.kind != "dir" {
					t.Errorf("%s is a %s", p, e.kind)
				}
			}

			// What was spoiled is named.
			var found strings.Builder
			for _, name := range []string{"exceptions.csv", "rejects.csv"} {
				for _, row := range readCSV(t, filepath.Join(dir, name)) {
					found.WriteString(strings.Join(row, "\t") + "\n")
				}
			}
			for _, w := range h.want {
				if !strings.Contains(found.String(), w) {
					t.Errorf("exceptions and rejects do not mention %q", w)
				}
			}

			// The good counters settle as on the clean day.
			good := func(rows [][]string) [][]string {
				return slices.DeleteFunc(slices.Clone(rows), func(r []string) bool { return r[2] == evilOutlet })
			}
			set := readCSV(t, filepath.Join(dir, "settlement.csv"))
			if got := good(set); !slices.EqualFunc(got, base, slices.Equal) {
				t.Errorf("settlement of the good counters changed:\n%v\nwant\n%v", got, base)
			}
			if got := good(readCSV(t, filepath.Join(dir, "variance.csv"))); !slices.EqualFunc(got, baseVar, slices.Equal) {
				t.Errorf("deposit check of the good counters changed:\n%v\nwant\n%v", got, baseVar)
			}
			if h.evil != slices.ContainsFunc(set, func(r []string) bool { return r[2] == evilOutlet && r[3] == evilCounter }) {
				t.Errorf("the hostile counter in settlement.csv: %v, want %v", !h.evil, h.evil)
			}

			// Reports: formula-shaped text stays text, in the hostile counter's own workbook.
			texts := noFormulas(t, dir)["reports/"+evilOutlet+"/"+evilCounter+".xlsx"]
			if h.evil {
				for _, f := range append(slices.Clone(formulas), nonBMP) {
					if !slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, f) }) {
						t.Errorf("no XLSX report cell holds %q as text", f)
					}
				}
				longest := 0
				for _, s := range texts {
					if strings.HasPrefix(s, nonBMP) {
						longest = max(longest, len(utf16.Encode([]rune(s))))
					}
				}
				if longest < 32000 || longest > 32767 {
					// Excel's limit of 32767 characters per cell counts UTF-16 units: a character
					// beyond U+FFFF counts two.
					t.Errorf("the 200 KB refund reason takes %d UTF-16 units of an XLSX cell, want it cut to Excel's 32767", longest)
				}
				for _, ext := range []string{".xlsx", ".pdf"} {
					if _, ok := files["reports/"+evilOutlet+"/"+evilCounter+ext]; !ok {
						t.Errorf("no %s report of the hostile counter", ext)
					}
				}
			}
		})
	}
}

// settleIn runs settle with its working directory at cwd (the paths given are absolute: a
// file appearing in cwd was written to a path made from input).
func settleIn(t *testing.T, cwd string, envv []string, args ...string) result {
	t.Helper()
	return settleAsIn(t, bin, cwd, envv, args...)
}

// readCSV reads a CSV output without its header.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows[1:]
}

// runPath is every path a published run may hold, relative to it (OUTPUTS.md).
var runPath = regexp.MustCompile(`^(manifest\.json|rejects\.csv|(settlement|variance|exceptions)\.(csv|parquet)|feeds(/[a-z_]+\.parquet)?|` +
	`reports(/city\.(xlsx|pdf)|/[A-Za-z0-9_-]{1,32}(/outlet\.(xlsx|pdf)|/[A-Za-z0-9_-]{1,32}\.(xlsx|pdf))?)?)$`)

// formulaElement is a cell formula in a sheet's XML: <f>, <f t="shared" …/>.
var formulaElement = regexp.MustCompile(`<f[\s>/]`)

// noFormulas opens every XLSX under dir, fails the test for any formula in any sheet (an <f>
// element of the sheet's XML: a formula cell reads back as an empty value, so looking at
// values would miss it) and returns the text of every cell by workbook, relative to dir.
func noFormulas(t *testing.T, dir string) map[string][]string {
	t.Helper()
	texts := map[string][]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".xlsx") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		zr, err := zip.OpenReader(p)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		for _, zf := range zr.File {
			if !strings.HasPrefix(zf.Name, "xl/worksheets/") {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				t.Errorf("%s %s: %v", rel, zf.Name, err)
				continue
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Errorf("%s %s: %v", rel, zf.Name, err)
			}
			if loc := formulaElement.FindIndex(data); loc != nil {
				t.Errorf("%s %s holds a formula: %.80s", rel, zf.Name, data[loc[0]:])
			}
		}
		zr.Close()
		f, err := excelize.OpenFile(p)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		defer f.Close()
		for _, sheet := range f.GetSheetList() {
			rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Errorf("%s %s: %v", rel, sheet, err)
				continue
			}
			for _, row := range rows {
				for _, v := range row {
					if v != "" {
						texts[filepath.ToSlash(rel)] = append(texts[filepath.ToSlash(rel)], v)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return texts
}
