package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/engine"
	"settle/feed"
)

// typicalCounter is one counter's day as a city produces it: 60 orders, 5 purchases, 80 local
// and 10 remote payments, 4 card sales, 6 reversals, 150 invoices, 5 deposits, 10 exceptions.
func typicalCounter(b testing.TB, mem memory.Allocator) *engine.Result {
	b.Helper()
	const city, outlet, counter = "TY", "TY0042", "TY0042-03"
	at := func(i int) string {
		return time.Date(2026, 11, 21, 8, 30, 0, 0, engine.Shanghai).Add(time.Duration(i) * 97 * time.Second).Format("2006-01-02 15:04:05")
	}
	common := func(rest ...any) row { return append(row{testDate, city, outlet, counter}, rest...) }
	methods := feed.PayMethods.Values
	var rows [feed.Count][]row
	for i := range 60 {
		rows[feed.Order] = append(rows[feed.Order], common(fmt.Sprintf("O%05d", i), at(i), fmt.Sprintf("ORD%05d", i),
			fmt.Sprintf("139%08d", i), feed.ServiceCodes.Values[i%7], int64(1000+i*250), methods[i%4]))
	}
	for i := range 5 {
		rows[feed.Purchase] = append(rows[feed.Purchase], common(fmt.Sprintf("P%05d", i), at(i), fmt.Sprintf("ORD%05d", i*7),
			fmt.Sprintf("86000000000%04d", i), "华为 Mate 60 Pro 12+512GB", int64(699900), "POS"))
	}
	for i := range 80 {
		rows[feed.LocalPayment] = append(rows[feed.LocalPayment], common(fmt.Sprintf("L%05d", i), at(i), fmt.Sprintf("138%08d", i),
			fmt.Sprintf("A99%07d", i), int64(5000+i*100), methods[i%4]))
	}
	for i := range 10 {
		rows[feed.RemotePayment] = append(rows[feed.RemotePayment], common(fmt.Sprintf("R%05d", i), at(i), fmt.Sprintf("137%08d", i),
			"北京", int64(10000), "CASH", feed.ClearingStatuses.Values[i%3], nil))
	}
	for i := range 4 {
		rows[feed.CardSale] = append(rows[feed.CardSale], common(fmt.Sprintf("C%05d", i), at(i), int64(10000),
			fmt.Sprintf("1000%06d", i*100), fmt.Sprintf("1000%06d", i*100+9), int64(10), int64(100000), "CASH"))
	}
	for i := range 6 {
		rows[feed.Reversal] = append(rows[feed.Reversal], common(fmt.Sprintf("V%05d", i), at(i), fmt.Sprintf("L%05d", i),
			testDate, "local_payment", "REFUND", int64(5000), methods[i%4], nil, "客户要求退费，已核实"))
	}
	for i := range 150 {
		rows[feed.Invoice] = append(rows[feed.Invoice], common("1100261130", fmt.Sprintf("%08d", 1000+i),
			fmt.Sprintf("L%05d", i%80), at(i), int64(5000+(i%80)*100), "ISSUED"))
	}
	for i := range 5 {
		rows[feed.Deposit] = append(rows[feed.Deposit], common(methods[i], int64(1000000+i), fmt.Sprintf("S%04d", i)))
	}
	res := &engine.Result{
		Date:     time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai),
		Counters: []engine.CounterInfo{{City: city, Outlet: outlet, Counter: counter}},
	}
	for _, id := range feed.All {
		if rows[id] != nil {
			res.Feeds[id] = buildFeed(b, mem, id, rows[id])
		}
	}
	for ci, c := range feed.Categories {
		for mi, m := range methods {
			if (ci+mi)%2 == 0 {
				res.Settlement = append(res.Settlement, engine.SettlementLine{City: city, Outlet: outlet, Counter: counter,
					Category: c.Code, PayMethod: m, TxnCount: 12, Gross: int64(123456 * (ci + 1)), Reversed: int64(500 * mi), Net: int64(123456*(ci+1) - 500*mi)})
			}
		}
	}
	for mi, m := range methods {
		res.Variance = append(res.Variance, engine.VarianceLine{City: city, Outlet: outlet, Counter: counter, PayMethod: m,
			Expected: int64(400000 + mi), Deposited: int64(400000 - 100*mi), Variance: int64(-100*mi - mi)})
	}
	for i := range 10 {
		c := engine.Codes[i*2]
		res.Exceptions = append(res.Exceptions, engine.Exception{Code: c.Code, Severity: c.Severity, City: city, Outlet: outlet,
			Counter: counter, Feed: "invoice", TxnID: fmt.Sprintf("L%05d", i), Amount: int64(1000 * i), HasAmount: i%2 == 0,
			Detail: "发票号码 00001012–00001014 缺号；invoice numbers 00001012-00001014 missing", Source: fmt.Sprintf("invoice.csv:%d", i+2)})
	}
	return res
}

func benchRenderer(b *testing.B, withFont bool) (*renderer, *counterView, string) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	res := typicalCounter(b, mem)
	b.Cleanup(func() { res.Release(); mem.AssertSize(b, 0) })
	o := testOptions("zh")
	dir := b.TempDir()
	r := &renderer{ix: newRunIndex(res), l: zh, opts: &o, out: dirCreator(dir)}
	if withFont {
		var err error
		if r.font, err = newRunFont(res, zh, &o); err != nil {
			b.Fatal(err)
		}
	}
	return r, r.ix.counter(res.Counters[0]), dir
}

func fileSize(b *testing.B, path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return float64(fi.Size())
}

func BenchmarkCounterXLSX(b *testing.B) {
	r, v, dir := benchRenderer(b, false)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.counterXLSX(v, "c.xlsx"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(fileSize(b, filepath.Join(dir, "c.xlsx")), "file-bytes")
}

func BenchmarkCounterPDF(b *testing.B) {
	r, v, dir := benchRenderer(b, true)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.counterPDF(v, "c.pdf"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(fileSize(b, filepath.Join(dir, "c.pdf")), "file-bytes")
}

// BenchmarkRunFont is the once-per-run cost of cutting the font down to the run's characters.
func BenchmarkRunFont(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	res := typicalCounter(b, mem)
	defer func() { res.Release(); mem.AssertSize(b, 0) }()
	o := testOptions("zh")
	if _, err := wqyFont(); err != nil { // parsed once per process
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := newRunFont(res, zh, &o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmallPDF: one small document with the run's cut of the face, drawn by fpdf (the
// peer: the reports were drawn with it until pdfw.go; it sets its font up afresh for every
// document) and by the report's own writer.
func BenchmarkSmallPDF(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	res := typicalCounter(b, mem)
	defer func() { res.Release(); mem.AssertSize(b, 0) }()
	o := testOptions("zh")
	cut, err := newRunFont(res, zh, &o)
	if err != nil {
		b.Fatal(err)
	}
	const text = "柜台日结算报告 营业员 复核人 1,234.50"
	b.Run("fpdf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := fpdf.New("P", "mm", "A4", "")
			p.AddUTF8FontFromBytes("f", "", cut.data)
			p.AddPage()
			p.SetFont("f", "", 10)
			p.CellFormat(0, 10, text, "", 0, "L", false, 0, "")
			if err := p.Output(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pdfw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := newLiteDoc(cut.pdf, pageW, pageH, marginX)
			p.cut = true
			p.AddPage()
			p.SetFont(fontFamily, "", 10)
			p.CellFormat(0, 10, text, "", 0, "L", false, 0, "")
			if err := p.Output(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}
