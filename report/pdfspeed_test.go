package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// wrap's short cut for a line that fits gives what taking the line apart gives, at every
// width, for the kinds of text the tables hold.
func TestWrapShortCut(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	res := typicalCounter(t, mem)
	defer func() { res.Release(); mem.AssertSize(t, 0) }()
	o := testOptions("zh")
	font, err := newRunFont(res, zh, &o)
	if err != nil {
		t.Fatal(err)
	}
	p := newLiteDoc(font.pdf, pageW, pageH, marginX)
	p.AddPage()
	d := &pdfDoc{p: p, l: zh, font: font}
	texts := []string{"", "0.00", "-1,234,567.89", "现金", "本地缴费日报", "TY0042-03", "华为Mate60Pro12+512GB",
		"invoice_numbers/00001012-00001014", "ORD00012", "发票号码00001012–00001014缺号", "a", "WWWWWWWWWWWWWWWWWWWW",
		"L00001", "2026-11-21", "营业员：", "支付宝（扫码）", strings.Repeat("款", 30)}
	for _, size := range []float64{7, 8, 9} {
		d.setFont(size)
		for _, s := range texts {
			full := d.width(s)
			for _, w := range []float64{1, 3, 5, full - 0.02, full - 0.01, full - 0.005, full, full + 0.005, full + 0.01, full + 0.02, 20, 40, 200} {
				if w <= 0 {
					continue
				}
				got := d.wrap(s, w)
				want := d.wrapLine(d.font.clean(s, true), w)
				if len(want) > maxCellLines {
					want = want[:maxCellLines]
					want[maxCellLines-1] += "…"
				}
				if !slices.Equal(got, want) {
					t.Errorf("size %v, %q at %v mm (%v wide): %q, want %q", size, s, w, full, got, fmt.Sprint(want))
				}
			}
		}
	}
}
