package report

import (
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"settle/engine"
)

func TestFormatFen(t *testing.T) {
	for _, tc := range []struct {
		fen  int64
		want string
	}{
		{0, "0.00"}, {5, "0.05"}, {-5, "-0.05"}, {100, "1.00"}, {123450, "1,234.50"}, {-1200, "-12.00"},
		{99999, "999.99"}, {100000, "1,000.00"}, {100000000, "1,000,000.00"},
		{math.MaxInt64, "92,233,720,368,547,758.07"}, {math.MinInt64, "-92,233,720,368,547,758.08"},
	} {
		if got := formatFen(tc.fen); got != tc.want {
			t.Errorf("formatFen(%d) = %q, want %q", tc.fen, got, tc.want)
		}
	}
}

func TestYuanCell(t *testing.T) {
	// The cell value prints as the exact amount: no float arithmetic before the cell.
	for fen, want := range map[int64]string{123450: "1234.5", -3450: "-34.5", 1: "0.01", 10: "0.1", 99999999999: "999999999.99",
		100000000000000: "1000000000000"} {
		if got := strconv.FormatFloat(yuanCell(fen), 'f', -1, 64); got != want {
			t.Errorf("yuanCell(%d) = %s, want %s", fen, got, want)
		}
	}
}

func TestFontSubset(t *testing.T) {
	base, err := wqyFont()
	if err != nil {
		t.Fatal(err)
	}
	if base.numGlyphs != 49531 {
		t.Errorf("embedded face: %d glyphs, want 49531", base.numGlyphs)
	}
	runes := []rune("营业员复核人 0123456789,.¥□𠮷")
	sub, err := parseTTF(base.subset(runes))
	if err != nil {
		t.Fatalf("the cut font does not parse: %v", err)
	}
	for _, r := range runes {
		if sub.has(r) != base.has(r) {
			t.Errorf("%q: in the cut font %v, in the face %v", r, sub.has(r), base.has(r))
		}
	}
	if sub.has('𠮷') || sub.has('猫') {
		t.Error("the cut font has characters it was not asked for")
	}
	for _, r := range runes {
		if !sub.has(r) {
			continue
		}
		// The same outline as in the face; a composite's parts renumbered, each part the same.
		got, want := sub.glyph(int(sub.gid[r])), base.glyph(int(base.gid[r]))
		var gotParts, wantParts []int
		components(got, func(at int) { gotParts = append(gotParts, int(got[at])<<8|int(got[at+1])) })
		components(want, func(at int) { wantParts = append(wantParts, int(want[at])<<8|int(want[at+1])) })
		if len(gotParts) != len(wantParts) || len(got) != len(want) {
			t.Errorf("%q: glyph of %d bytes, %d parts; want %d bytes, %d parts", r, len(got), len(gotParts), len(want), len(wantParts))
			continue
		}
		if len(gotParts) == 0 && string(got) != string(want) {
			t.Errorf("%q: glyph differs from the face's", r)
		}
		for i := range gotParts {
			if string(sub.glyph(gotParts[i])) != string(base.glyph(wantParts[i])) {
				t.Errorf("%q: part %d differs from the face's", r, i)
			}
		}
	}
}

func TestCleanAndWrap(t *testing.T) {
	o := testOptions("zh")
	res := &engine.Result{Exceptions: []engine.Exception{{Detail: "吉"}}}
	f, err := newRunFont(res, zh, &o)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"营业员 1,234.50", "营业员 1,234.50"},
		{"吉𠮷😀", "吉□□"},
		{"猫", "□"}, // a glyph of the face, but not of this run: never asked for
		{"a\tb\nc\x07\xff", "a b c□□"},
	} {
		if got := f.clean(tc.in, false); got != tc.want {
			t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := f.clean("a\nb", true); got != "a\nb" {
		t.Errorf("clean multiline = %q", got)
	}

	p := newLiteDoc(f.pdf, pageW, pageH, marginX)
	p.SetFont(fontFamily, "", 10)
	d := &pdfDoc{p: p, font: f}
	for _, tc := range []struct {
		in   string
		w    float64
		want []string
	}{
		{"营业员复核人", 1000, []string{"营业员复核人"}},
		{"营业员复核人", 8, []string{"营业", "员复", "核人"}}, // 3.5 mm each; no character is lost at a break
		{"REVERSAL_EXCEEDS_ORIGINAL", 30, []string{"REVERSAL_", "EXCEEDS_", "ORIGINAL"}},
		{"REVERSAL_EXCEEDS_ORIGINAL", 42, []string{"REVERSAL_EXCEEDS_", "ORIGINAL"}},
		{"TY0001-01TY0001-01", 10, []string{"TY000", "1-01T", "Y0001", "-01"}}, // too long for a line: cut anywhere
		{"860000000000000254-860000000000000255", 40, []string{"860000000000000254-", "860000000000000255"}},
		{"ab TY0001-01", 18, []string{"ab", "TY0001-01"}},
		{"1,300.00 元", 14, []string{"1,300.00", "元"}},
		{"a\nb", 100, []string{"a", "b"}},
		{"", 10, []string{""}},
	} {
		got := d.wrap(tc.in, tc.w)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrap(%q, %v) = %q, want %q", tc.in, tc.w, got, tc.want)
		}
	}
}

// FuzzPDFText: whatever a feed carries, what reaches the PDF writer is drawable and never panics it.
func FuzzPDFText(f *testing.F) {
	for _, s := range []string{"营业员", formulaText, "吉𠮷😀\x00\x07\xff", strings.Repeat("x", 300), "a\n\nb", "\uFFFF\uFFFE"} {
		f.Add(s)
	}
	o := testOptions("zh")
	font, err := newRunFont(&engine.Result{}, zh, &o)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range font.clean(s, true) {
			if r != '\n' && (r >= 0x10000 || !font.has[r]) {
				t.Fatalf("clean(%q) keeps %q", s, r)
			}
		}
		p := newLiteDoc(font.pdf, pageW, pageH, marginX)
		p.AddPage()
		p.SetFont(fontFamily, "", 8)
		d := &pdfDoc{p: p, font: font, size: 8}
		for _, line := range d.wrap(s, 40) {
			p.CellFormat(40, 4, line, "", 1, "L", false, 0, "")
		}
		d.cell(30, 5, s, "1", "L", noFill, black)
		if err := p.Output(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
