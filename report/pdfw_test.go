package report

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"settle/engine"
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

// TestPDFEmbedsDrawnGlyphs: a daily report's document embeds the glyphs it drew, and .notdef,
// each under the id its text uses, and no other glyph of the run's cut; its widths and its
// map back to text cover exactly those glyphs; two documents drawing the same characters
// share one cut.
func TestPDFEmbedsDrawnGlyphs(t *testing.T) {
	o := testOptions("zh")
	rf, err := newRunFont(&engine.Result{}, zh, &o)
	if err != nil {
		t.Fatal(err)
	}
	draw := func(text string) []byte {
		p := newLiteDoc(rf.pdf, pageW, pageH, marginX)
		p.cut = true
		p.AddPage()
		p.SetFont(fontFamily, "", 10)
		p.CellFormat(50, 5, text, "", 1, "L", false, 0, "")
		var b bytes.Buffer
		if err := p.Output(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	pdf := draw("营业员 复核")
	font := pdfStream(t, pdf, 7)
	cut, err := parseTTF(font)
	if err != nil {
		t.Fatalf("the embedded font: %v", err)
	}
	want := map[int]bool{0: true}
	for _, r := range "营业员 复核" {
		want[int(rf.pdf.gid[r])] = true
	}
	sf, err := rf.pdf.sfnt()
	if err != nil {
		t.Fatal(err)
	}
	embed := maps.Clone(want) // and the components of composite glyphs, transitively
	for todo := slices.Collect(maps.Keys(want)); len(todo) > 0; {
		g := todo[0]
		todo = todo[1:]
		components(sf.glyph(g), func(at int) {
			if c := int(binary.BigEndian.Uint16(sf.glyph(g)[at:])); !embed[c] {
				embed[c] = true
				todo = append(todo, c)
			}
		})
	}
	for g := range cut.numGlyphs {
		if has := len(cut.glyph(g)) > 0; has != embed[g] && !(g == int(rf.pdf.gid[' ']) && !has) {
			t.Errorf("glyph %d: embedded %v, drawn or a component %v", g, has, embed[g])
		}
		if len(cut.glyph(g)) > 0 && !bytes.Equal(cut.glyph(g), sf.glyph(g)) {
			t.Errorf("glyph %d differs from the run's cut", g)
		}
	}
	for _, r := range "营业员复核" {
		if g := rf.pdf.gid[r]; len(cut.glyph(int(g))) == 0 || cut.gid[r] != g {
			t.Errorf("%q: glyph %d empty or mapped to %d", r, g, cut.gid[r])
		}
	}
	uni := string(pdfStream(t, pdf, 8))
	if n := strings.Count(uni, "> <") - 1; n != len(want)-1 { // less the codespace range
		t.Errorf("ToUnicode maps %d glyphs, want %d", n, len(want)-1)
	}
	if !strings.Contains(uni, "<"+hex4(rf.pdf.gid['营'])+"> <8425>") {
		t.Error("ToUnicode does not map 营's glyph back to U+8425")
	}
	w := regexp.MustCompile(`/W \[(.*?)\]>>`).FindSubmatch(pdf)
	if w == nil || strings.Count(string(w[1]), "[") == 0 {
		t.Fatalf("no /W array: %q", w)
	}
	if n := len(strings.Fields(strings.NewReplacer("[", " ", "]", " ").Replace(string(w[1])))) - strings.Count(string(w[1]), "["); n != len(want)-1 {
		t.Errorf("/W gives %d widths, want %d: %s", n, len(want)-1, w[1])
	}
	name := regexp.MustCompile(`/BaseFont (/[A-Z]{6}\+MicroHei)`)
	same, other := draw("复核 营业员"), draw("营业员 复核人")
	if a, b := name.FindSubmatch(pdf), name.FindSubmatch(same); a == nil || b == nil || !bytes.Equal(a[1], b[1]) {
		t.Error("two documents drawing the same characters embed differently named cuts")
	}
	if a, b := name.FindSubmatch(pdf), name.FindSubmatch(other); a == nil || b == nil || bytes.Equal(a[1], b[1]) {
		t.Error("a document drawing one more character embeds the same cut")
	}
}

// pdfStream returns object n's stream of a PDF this package wrote, inflated.
func pdfStream(t *testing.T, pdf []byte, n int) []byte {
	t.Helper()
	at := bytes.Index(pdf, []byte("\n"+strconv.Itoa(n)+" 0 obj\n"))
	if at < 0 {
		t.Fatalf("no object %d", n)
	}
	rest := pdf[at:]
	m := regexp.MustCompile(`/Length (\d+)>>\nstream\n`).FindSubmatchIndex(rest)
	if m == nil {
		t.Fatalf("object %d has no stream", n)
	}
	l, _ := strconv.Atoi(string(rest[m[2]:m[3]]))
	zr, err := zlib.NewReader(bytes.NewReader(rest[m[1] : m[1]+l]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
