package report

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/xuri/excelize/v2"

	"settle/engine"
	"settle/internal/sheettext"
	"settle/internal/xlsxrows"
)

// Parts written through sortedZip come back byte for byte, those compressed once for every
// workbook (repeatedParts) as well as the others, and in name order.
func TestSortedZipParts(t *testing.T) {
	head := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<worksheet ` + strings.Repeat(`xmlns:x="urn:x" `, 100) + `>`
	parts := map[string]string{
		"xl/worksheets/sheet2.xml": head + `<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>`,
		"xl/worksheets/sheet1.xml": head + strings.Repeat(`<row r="2"><c r="B2" t="inlineStr"><is><t>支付宝</t></is></c></row>`, 300) + `</worksheet>`,
		"xl/worksheets/sheet3.xml": head, // nothing after the head
		"xl/workbook.xml":          `<?xml version="1.0"?><workbook><sheets/></workbook>`,
		"docProps/core.xml":        ``,
		"[Content_Types].xml":      `<Types/>`,
		"xl/theme/theme1.xml":      `<a:theme/>`,
		"broken.xml":               `<unclosed attr="x`, // no end of a start tag
	}
	for round := range 2 { // the second round takes the repeated parts from the cache
		var buf bytes.Buffer
		z := &sortedZip{w: &buf}
		for _, n := range []string{"xl/worksheets/sheet2.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "[Content_Types].xml",
			"docProps/core.xml", "xl/worksheets/sheet3.xml", "xl/theme/theme1.xml", "broken.xml"} {
			w, err := z.Create(n)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, parts[n])
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range r.File {
			names = append(names, f.Name)
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc) // checks the CRC too
			if err != nil {
				t.Fatalf("round %d, %s: %v", round, f.Name, err)
			}
			if string(got) != parts[f.Name] {
				t.Errorf("round %d, %s: %d bytes back, want %d", round, f.Name, len(got), len(parts[f.Name]))
			}
		}
		want := "[Content_Types].xml broken.xml docProps/core.xml xl/theme/theme1.xml xl/workbook.xml xl/worksheets/sheet1.xml xl/worksheets/sheet2.xml xl/worksheets/sheet3.xml"
		if got := strings.Join(names, " "); got != want {
			t.Errorf("round %d: parts in the order\n%s\nwant\n%s", round, got, want)
		}
	}
}

// The style ids a workbook is given name, in the styles part it is given, the styles a fresh
// excelize file makes for the same definitions, in both languages.
func TestBookBaseStyles(t *testing.T) {
	for _, l := range []*labels{zh, en} {
		b, err := newBook(l, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), "t", "h")
		if err != nil {
			t.Fatal(err)
		}
		sw, err := b.sheet(sheetSetup{name: "S", widths: []float64{10}})
		if err != nil {
			t.Fatal(err)
		}
		if err := sw.SetRow("A1", []any{str("x", b.st.money)}); err != nil {
			t.Fatal(err)
		}
		got, _ := reopen(t, b, sw)
		fresh := excelize.NewFile()
		if l.lang == "zh" {
			fresh.SetDefaultFont("等线")
		}
		var st styles
		if err := makeStyles(fresh, &st); err != nil {
			t.Fatal(err)
		}
		if st != b.st {
			t.Fatalf("%s: ids %+v, a fresh file's %+v", l.lang, b.st, st)
		}
		v := reflect.ValueOf(st)
		for i := range v.NumField() {
			id := int(v.Field(i).Int())
			g, err1 := got.GetStyle(id)
			w, err2 := fresh.GetStyle(id)
			if err1 != nil || err2 != nil || !reflect.DeepEqual(g, w) {
				t.Errorf("%s: style %s (id %d) reads %+v (%v), a fresh file's %+v (%v)", l.lang, v.Type().Field(i).Name, id, g, err1, w, err2)
			}
		}
		font, _ := got.GetDefaultFont()
		if want := map[string]string{"zh": "等线", "en": "Calibri"}[l.lang]; font != want {
			t.Errorf("%s: default font %q, want %q", l.lang, font, want)
		}
		got.Close()
		fresh.Close()
	}
}

// Column widths are set as given and listed in column order.
func TestColumnWidthsInOrder(t *testing.T) {
	b, err := newBook(zh, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), "t", "h")
	if err != nil {
		t.Fatal(err)
	}
	widths := []float64{10, 10, 12.5, 12.5, 12.5, 8, 30}
	sw, err := b.sheet(sheetSetup{name: "S", widths: widths})
	if err != nil {
		t.Fatal(err)
	}
	f, written := reopen(t, b, sw)
	defer f.Close()
	for i, w := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if got, err := f.GetColWidth("S", col); err != nil || math.Abs(got-w) > 1e-9 {
			t.Errorf("column %s: width %v (%v), want %v", col, got, err, w)
		}
	}
	r, _ := zip.NewReader(bytes.NewReader(written), int64(len(written)))
	for _, zf := range r.File {
		if zf.Name != "xl/worksheets/sheet1.xml" {
			continue
		}
		rc, _ := zf.Open()
		xml, _ := io.ReadAll(rc)
		var mins []string
		for _, m := range regexp.MustCompile(`<col min="(\d+)"`).FindAllSubmatch(xml, -1) {
			mins = append(mins, string(m[1]))
		}
		if got := strings.Join(mins, ","); got != "1,2,3,4,5,6,7" {
			t.Errorf("columns listed as %s, want 1,...,7 in order", got)
		}
	}
}

func TestDigits(t *testing.T) {
	for _, n := range []int64{0, 7, -7, 9, 10, -10, 99, 100, 12345, -12345, math.MaxInt64, math.MinInt64} {
		if got, want := digits(n), len(fmt.Sprint(n)); got != want {
			t.Errorf("digits(%d) = %d, want %d", n, got, want)
		}
	}
}

// excelizeBook writes a workbook through excelize's StreamWriter, as the reports were written
// until xlsxw.go: the reference TestDirectBookLikeExcelize holds the direct writer to.
type excelizeBook struct {
	f      *excelize.File
	sheets int
}

func newExcelizeBook(l *labels, stamp time.Time, title, header string) (*book, error) {
	f := excelize.NewFile()
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return &sortedZip{w: w} })
	f.Theme = nil // excelize's theme template as it is, not marshalled again
	at := stamp.UTC().Format("2006-01-02T15:04:05Z")
	if err := f.SetDocProps(&excelize.DocProperties{Created: at, Modified: at, Creator: "settle", LastModifiedBy: "settle",
		Title: title, Language: map[string]string{"zh": "zh-CN", "en": "en-US"}[l.lang]}); err != nil {
		return nil, err
	}
	if l.lang == "zh" {
		f.SetDefaultFont("等线")
	}
	b := &book{w: &excelizeBook{f: f}, l: l, header: header}
	if err := makeStyles(f, &b.st); err != nil {
		return nil, err
	}
	return b, nil
}

func (e *excelizeBook) write(w io.Writer) error {
	defer e.f.Close()
	return e.f.Write(w)
}

func (e *excelizeBook) sheet(b *book, s sheetSetup) (xlsxrows.Sink, error) {
	f := e.f
	if e.sheets == 0 {
		if err := f.SetSheetName(f.GetSheetName(0), s.name); err != nil {
			return nil, err
		}
	} else if _, err := f.NewSheet(s.name); err != nil {
		return nil, err
	}
	e.sheets++
	orient := "portrait"
	if s.landscape {
		orient = "landscape"
	}
	size, fitW, fitH := 9, 1, 0 // 9: A4
	layout := &excelize.PageLayoutOptions{Size: &size, Orientation: &orient, FitToWidth: &fitW, FitToHeight: &fitH}
	if err := f.SetPageLayout(s.name, layout); err != nil {
		return nil, err
	}
	m := 0.5
	if err := f.SetPageMargins(s.name, &excelize.PageLayoutMarginsOptions{Left: &m, Right: &m, Top: &m, Bottom: &m}); err != nil {
		return nil, err
	}
	hf := &excelize.HeaderFooterOptions{OddFooter: b.footer()}
	if b.warn != "" {
		hf.OddHeader = `&C&"-,Bold"&14&KC00000` + footerEscape(b.warn)
	}
	if err := f.SetHeaderFooter(s.name, hf); err != nil {
		return nil, err
	}
	if s.filter != "" {
		if err := f.AutoFilter(s.name, s.filter, nil); err != nil {
			return nil, err
		}
	}
	// After AutoFilter, which replaces the sheet properties.
	fit := true
	if err := f.SetSheetProps(s.name, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return nil, err
	}
	if s.wide && s.freeze > 1 {
		quoted := "'" + strings.ReplaceAll(s.name, "'", "''") + "'"
		if err := f.SetDefinedName(&excelize.DefinedName{
			Name:     "_xlnm.Print_Titles",
			RefersTo: fmt.Sprintf("%s!$%d:$%d", quoted, 2, s.freeze),
			Scope:    s.name,
		}); err != nil {
			return nil, err
		}
	}
	sw, err := f.NewStreamWriter(s.name)
	if err != nil {
		return nil, err
	}
	// Neighbouring columns of one width are set by one call (excelize copies every column set
	// before on each call), from the last: excelize puts the columns of each call before the
	// ones set earlier, so the sheet lists them in column order.
	for j := len(s.widths); j > 0; {
		i := j - 1
		for i > 0 && s.widths[i-1] == s.widths[j-1] {
			i--
		}
		if err := sw.SetColWidth(i+1, j, s.widths[j-1]); err != nil {
			return nil, err
		}
		j = i
	}
	if s.freeze > 0 || s.freezeCol > 0 {
		topLeft, _ := excelize.CoordinatesToCellName(s.freezeCol+1, s.freeze+1)
		pane := "bottomLeft"
		switch {
		case s.freeze > 0 && s.freezeCol > 0:
			pane = "bottomRight"
		case s.freezeCol > 0:
			pane = "topRight"
		}
		if err := sw.SetPanes(&excelize.Panes{
			Freeze: true, XSplit: s.freezeCol, YSplit: s.freeze, TopLeftCell: topLeft, ActivePane: pane,
		}); err != nil {
			return nil, err
		}
	}
	return safeSink{sw}, nil
}

// safeSink hands excelize its text cells XML-safe, as the direct writer writes them (it does
// not make them so itself).
type safeSink struct{ *excelize.StreamWriter }

func (s safeSink) SetRow(cell string, values []any, opts ...excelize.RowOpts) error {
	vs := slices.Clone(values)
	for i, v := range vs {
		switch c := v.(type) {
		case excelize.Cell:
			if t, ok := c.Value.(string); ok {
				c.Value = sheettext.XMLSafe(t)
				vs[i] = c
			}
		case *excelize.Cell:
			if c == nil {
				continue
			}
			if t, ok := c.Value.(string); ok {
				vs[i] = excelize.Cell{StyleID: c.StyleID, Value: sheettext.XMLSafe(t)}
			}
		}
	}
	return s.StreamWriter.SetRow(cell, vs, opts...)
}

// TestDirectBookLikeExcelize: every workbook of the test day — each counter's, each outlet's
// and the city's, in both languages, with the day open and not — written directly reads back
// through excelize as the same layout written through excelize's StreamWriter does: the same
// sheets, and in each every cell's value, type and style, the row heights, merges, column
// widths, frozen panes, print set-up, header and footer and defined names, and the same
// document properties.
func TestDirectBookLikeExcelize(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	res := testResult(t, mem)
	defer func() { res.Release(); mem.AssertSize(t, 0) }()
	for _, lang := range []string{"zh", "en"} {
		for _, open := range []bool{false, true} {
			o := testOptions(lang)
			o.DayOpen = open
			render := func(books func(*labels, time.Time, string, string) (*book, error)) string {
				dir := t.TempDir()
				l, _ := labelsFor(lang)
				ix := newRunIndex(res)
				r := &renderer{ix: ix, l: l, opts: &o, out: dirCreator(dir), sorted: ix.sortedCounters(), books: books}
				byOutlet := map[string][]engine.CounterInfo{}
				for _, c := range r.sorted {
					if err := r.counter(c, true, false); err != nil {
						t.Fatal(err)
					}
					byOutlet[c.Outlet] = append(byOutlet[c.Outlet], c)
				}
				for o, cs := range byOutlet {
					if err := r.rollupXLSX(r.outletRollupData(o, cs)); err != nil {
						t.Fatal(err)
					}
				}
				if err := r.rollupXLSX(r.cityRollupData()); err != nil {
					t.Fatal(err)
				}
				return dir
			}
			got, want := render(nil), render(newExcelizeBook)
			n := 0
			filepath.WalkDir(want, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(want, path)
				sameWorkbook(t, fmt.Sprintf("%s open=%v %s", lang, open, rel), filepath.Join(got, rel), path)
				n++
				return nil
			})
			if n < 5 {
				t.Fatalf("%d workbooks compared", n)
			}
		}
	}
}

// sameWorkbook compares what excelize reads of two workbooks.
func sameWorkbook(t *testing.T, name, gotPath, wantPath string) {
	t.Helper()
	g, err := excelize.OpenFile(gotPath)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer g.Close()
	w, err := excelize.OpenFile(wantPath)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer w.Close()
	// both reads what from each file: the same value, and no error (two failed reads would
	// give two equal zero values).
	both := func(what string, read func(f *excelize.File) (any, error)) {
		t.Helper()
		a, errA := read(g)
		b, errB := read(w)
		if errA != nil || errB != nil {
			t.Errorf("%s: %s: read: %v / excelize's: %v", name, what, errA, errB)
			return
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: %s: %#v, excelize's %#v", name, what, a, b)
		}
	}
	noErr := func(v any) (any, error) { return v, nil }
	both("document properties", func(f *excelize.File) (any, error) { return f.GetDocProps() })
	both("sheets", func(f *excelize.File) (any, error) { return noErr(f.GetSheetList()) })
	both("defined names", func(f *excelize.File) (any, error) { return noErr(f.GetDefinedName()) })
	both("active sheet", func(f *excelize.File) (any, error) { return noErr(f.GetActiveSheetIndex()) })
	for _, sh := range w.GetSheetList() {
		at := func(what string) string { return sh + ": " + what }
		both(at("rows"), func(f *excelize.File) (any, error) { return f.GetRows(sh, excelize.Options{RawCellValue: true}) })
		rows, _ := w.GetRows(sh, excelize.Options{RawCellValue: true})
		for ri, row := range rows {
			both(at(fmt.Sprintf("row %d height", ri+1)), func(f *excelize.File) (any, error) { return f.GetRowHeight(sh, ri+1) })
			for ci := range len(row) + 1 {
				cell, _ := excelize.CoordinatesToCellName(ci+1, ri+1)
				both(at(cell+" style"), func(f *excelize.File) (any, error) { return f.GetCellStyle(sh, cell) })
				both(at(cell+" type"), func(f *excelize.File) (any, error) { return f.GetCellType(sh, cell) })
			}
		}
		both(at("merges"), func(f *excelize.File) (any, error) {
			m, err := f.GetMergeCells(sh)
			return fmt.Sprint(m), err
		})
		for c := 1; c <= 40; c++ {
			col, _ := excelize.ColumnNumberToName(c)
			both(at(col+" width"), func(f *excelize.File) (any, error) { return f.GetColWidth(sh, col) })
		}
		both(at("panes"), func(f *excelize.File) (any, error) { return f.GetPanes(sh) })
		both(at("page layout"), func(f *excelize.File) (any, error) { return f.GetPageLayout(sh) })
		both(at("margins"), func(f *excelize.File) (any, error) { return f.GetPageMargins(sh) })
		both(at("header and footer"), func(f *excelize.File) (any, error) { return f.GetHeaderFooter(sh) })
		both(at("sheet properties"), func(f *excelize.File) (any, error) { return f.GetSheetProps(sh) })
		both(at("view"), func(f *excelize.File) (any, error) { return f.GetSheetView(sh, 0) })
	}
	for _, part := range []string{"xl/styles.xml", "xl/theme/theme1.xml"} {
		if a, b := zipPart(t, gotPath, part), zipPart(t, wantPath, part); a != b {
			t.Errorf("%s: part %s differs from excelize's", name, part)
		}
	}
}

// reopen flushes sw, writes the book, and opens what it wrote with excelize; it returns the
// bytes written too.
func reopen(t *testing.T, b *book, sw xlsxrows.Sink) (*excelize.File, []byte) {
	t.Helper()
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := b.w.write(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return f, buf.Bytes()
}

// TestDirectCellValues: cells of every kind a report writes — and text a feed may carry that
// a reader would take for markup (_x0041_, &, <, leading and trailing space, CR, text over
// Excel's 32,767 characters) and numbers beyond 15 digits — read back through excelize as
// excelize's own writer's do.
func TestDirectCellValues(t *testing.T) {
	stamp := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	long := strings.Repeat("款", 40000)
	values := []any{str("_x0041_ and _x005F_x0041_ and _xZZZZ_", 0), str(" lead", 0), str("trail\t", 0), str("a&b<c>\"d'", 0),
		str("line\r\nnext", 0), str("bell\x07, \uFFFE and \xff", 0), str(long, 0), str("", 3), fen(-123456789, 9), excelize.Cell{Value: 46347.381944444445, StyleID: 22},
		excelize.Cell{Value: int64(-42)}, excelize.Cell{Value: 7}, excelize.Cell{Value: 0.1 + 0.2}, excelize.Cell{Value: 1e20}, excelize.Cell{Value: 123456789012345678.0},
		excelize.Cell{Value: -1234567890123456.5}, excelize.Cell{Value: 0.000123456789012345678},
		excelize.Cell{Value: math.NaN()}, excelize.Cell{StyleID: 4}, nil, "plain", 3.5, true}
	dir := t.TempDir()
	for name, start := range map[string]func(*labels, time.Time, string, string) (*book, error){"got": newBook, "want": newExcelizeBook} {
		b, err := start(zh, stamp, "t", "h")
		if err != nil {
			t.Fatal(err)
		}
		sw, err := b.sheet(sheetSetup{name: "S", widths: []float64{10, 20}, freeze: 1, freezeCol: 2, filter: "A1:C3", wide: true})
		if err != nil {
			t.Fatal(err)
		}
		w := xlsxrows.New(sw, 0)
		w.AddHeight(30, values...)
		w.Skip()
		w.Add(values[:3]...)
		w.Merge(1, 2, 3, 3)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := b.save(&renderer{out: dirCreator(dir)}, name+".xlsx"); err != nil {
			t.Fatal(err)
		}
	}
	sameWorkbook(t, "cells", filepath.Join(dir, "got.xlsx"), filepath.Join(dir, "want.xlsx"))
	g, err := excelize.OpenFile(filepath.Join(dir, "got.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if v, _ := g.GetCellValue("S", "A1"); v != "_x0041_ and _x005F_x0041_ and _xZZZZ_" {
		t.Errorf("A1 reads %q", v)
	}
	if x := zipPart(t, filepath.Join(dir, "got.xlsx"), "xl/worksheets/sheet1.xml"); !strings.Contains(x, `<dimension ref="A1:W3">`) {
		t.Errorf("the sheet's dimension is not its used range A1:W3: %.400s", x)
	}
	if v, _ := g.GetCellValue("S", "G1"); len([]rune(v)) != 32767 {
		t.Errorf("a 40,000-character text reads back %d characters, want 32,767", len([]rune(v)))
	}
}
