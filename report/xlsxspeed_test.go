package report

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/xuri/excelize/v2"
)

// A deflate stream cut anywhere into a sync-flushed head and a rest compressed apart inflates
// to the whole: what writeDeflated relies on.
func TestDeflateHeadAndRest(t *testing.T) {
	data := []byte(strings.Repeat(`<c r="A1" s="7" t="inlineStr"><is><t>现金 cash</t></is></c>`, 200))
	for _, cut := range []int{0, 1, 7, 1000, len(data) / 2, len(data) - 1, len(data)} {
		var h bytes.Buffer
		fw, _ := flate.NewWriter(&h, flate.BestSpeed)
		fw.Write(data[:cut])
		if err := fw.Flush(); err != nil {
			t.Fatal(err)
		}
		out := bytes.NewBuffer(h.Bytes())
		fw2, _ := flate.NewWriter(out, flate.BestSpeed)
		fw2.Write(data[cut:])
		if err := fw2.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(flate.NewReader(out))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("cut at %d: %d bytes back (%v), want the %d written", cut, len(got), err, len(data))
		}
	}
}

// Parts written through sortedZip come back byte for byte, those with a long root tag (their
// head compressed once and reused) as well as the others, and in name order.
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
	for round := range 2 { // the second round takes the head from the cache
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
	if n := rootTagEnd([]byte(head + "<sheetData/>")); n != len(head) {
		t.Errorf("rootTagEnd: %d, want %d (the end of the worksheet's start tag)", n, len(head))
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

// A workbook started from the base (bookBase.open) is the one excelize.NewFile, the default
// font and the 23 styles make, part for part; only the theme is excelize's template as it is,
// not marshalled again.
func TestBookBaseLikeNewFile(t *testing.T) {
	stamp := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	fill := func(b *book) []byte {
		t.Helper()
		for i, name := range []string{"汇总", "异常"} {
			sw, err := b.sheet(sheetSetup{name: name, widths: []float64{12, 30}, freeze: 1, filter: "A1:B2", landscape: i == 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := sw.SetRow("A1", []any{str("现金", b.st.th), fen(123456, b.st.money)}); err != nil {
				t.Fatal(err)
			}
			if err := sw.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := b.f.Write(&buf); err != nil {
			t.Fatal(err)
		}
		b.f.Close()
		return buf.Bytes()
	}
	for _, l := range []*labels{zh, en} {
		b, err := newBook(l, stamp, "标题", "头")
		if err != nil {
			t.Fatal(err)
		}
		got := fill(b)

		f := excelize.NewFile()
		f.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return &sortedZip{w: w} })
		f.Theme = nil
		at := stamp.Format("2006-01-02T15:04:05Z")
		if err := f.SetDocProps(&excelize.DocProperties{Created: at, Modified: at, Creator: "settle", LastModifiedBy: "settle",
			Title: "标题", Language: map[string]string{"zh": "zh-CN", "en": "en-US"}[l.lang]}); err != nil {
			t.Fatal(err)
		}
		if l.lang == "zh" {
			f.SetDefaultFont("等线")
		}
		ref := &book{f: f, l: l, header: "头"}
		if err := makeStyles(f, &ref.st); err != nil {
			t.Fatal(err)
		}
		want := fill(ref)
		if !bytes.Equal(got, want) {
			gz, _ := zip.NewReader(bytes.NewReader(got), int64(len(got)))
			wz, _ := zip.NewReader(bytes.NewReader(want), int64(len(want)))
			read := func(z *zip.Reader) map[string]string {
				m := map[string]string{}
				for _, zf := range z.File {
					rc, _ := zf.Open()
					b, _ := io.ReadAll(rc)
					m[zf.Name] = string(b)
				}
				return m
			}
			g, w := read(gz), read(wz)
			for n := range w {
				if g[n] != w[n] {
					t.Errorf("%s: part %s differs:\n%.300s\nwant\n%.300s", l.lang, n, g[n], w[n])
				}
			}
			if len(g) != len(w) {
				t.Errorf("%s: %d parts, want %d", l.lang, len(g), len(w))
			}
		}
	}
}

// reopen flushes sw, writes the book and closes it, and opens what it wrote with excelize; it
// returns the bytes written too.
func reopen(t *testing.T, b *book, sw *excelize.StreamWriter) (*excelize.File, []byte) {
	t.Helper()
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := b.f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	b.f.Close()
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return f, buf.Bytes()
}
