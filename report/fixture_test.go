package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/engine"
	"settle/feed"
)

// row is one feed row: the feed's columns in order, as text for strings and dates, int64 for
// money and counts, nil for null. source and line are added by buildFeed unless given.
type row []any

// buildFeed builds a feed's normalized record.
func buildFeed(t testing.TB, mem memory.Allocator, id feed.ID, rows []row) arrow.RecordBatch {
	t.Helper()
	schema := feed.Schema(id)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	ncol := len(feed.Get(id).Columns)
	for ri, r := range rows {
		vals := append(append([]any{}, r...), fmt.Sprintf("%s.csv", feed.Get(id).Name), int64(ri+2))
		switch len(r) {
		case ncol:
		case ncol + 2: // source and line given
			vals = r
		default:
			t.Fatalf("%s row %d: %d values, want %d", feed.Get(id).Name, ri, len(r), ncol)
		}
		for c, v := range vals {
			fb := b.Field(c)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.StringBuilder:
				fb.Append(v.(string))
			case *array.Int64Builder:
				fb.Append(v.(int64))
			case *array.Date32Builder:
				d, err := time.Parse("2006-01-02", v.(string))
				if err != nil {
					t.Fatal(err)
				}
				fb.Append(arrow.Date32FromTime(d))
			case *array.TimestampBuilder:
				tm, err := time.ParseInLocation("2006-01-02 15:04:05", v.(string), engine.Shanghai)
				if err != nil {
					t.Fatal(err)
				}
				fb.Append(arrow.Timestamp(tm.Unix()))
			default:
				t.Fatalf("column %d: builder %T", c, fb)
			}
		}
	}
	return b.NewRecordBatch()
}

const (
	testDate = "2026-11-21"
	// formulaText is a refund reason shaped like a formula: it must stay text.
	formulaText = `=HYPERLINK("http://x","y")`
)

// testResult is a small day: city TY, outlets TY0001 (counters -01 complete, -02 incomplete)
// and TY0002 (one counter).
func testResult(t testing.TB, mem memory.Allocator) *engine.Result {
	t.Helper()
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	c1 := func(rest ...any) row { return append(row{testDate, "TY", "TY0001", "TY0001-01"}, rest...) }
	c2 := func(rest ...any) row { return append(row{testDate, "TY", "TY0001", "TY0001-02"}, rest...) }
	c3 := func(rest ...any) row { return append(row{testDate, "TY", "TY0002", "TY0002-01"}, rest...) }
	res := &engine.Result{
		Date: date,
		Settlement: []engine.SettlementLine{
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Category: "ORDER_FEE", PayMethod: "CASH", TxnCount: 2, Gross: 123450, Net: 123450},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Category: "LOCAL_BILL", PayMethod: "WECHAT", TxnCount: 1, Gross: 50000, Reversed: 1200, Net: 48800},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Category: "TERMINAL", PayMethod: "POS", TxnCount: 1, Gross: 299900, Net: 299900},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Category: "REMOTE_BILL", PayMethod: "CASH", Reversed: 15000, Net: -15000},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-02", Category: "LOCAL_BILL", PayMethod: "CASH", TxnCount: 1, Gross: 10000, Net: 10000},
			{City: "TY", Outlet: "TY0002", Counter: "TY0002-01", Category: "CARD", PayMethod: "ALIPAY", TxnCount: 1, Gross: 100000, Net: 100000},
		},
		Variance: []engine.VarianceLine{
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-01", PayMethod: "CASH", Expected: 108450, Deposited: 105000, Variance: -3450},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-01", PayMethod: "POS", Expected: 299900, Deposited: 300000, Variance: 100},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-01", PayMethod: "WECHAT", Expected: 48800, Deposited: 48800},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-02", PayMethod: "CASH", Expected: 10000, Variance: -10000},
			{City: "TY", Outlet: "TY0002", Counter: "TY0002-01", PayMethod: "ALIPAY", Expected: 100000, Deposited: 100000},
		},
		Exceptions: []engine.Exception{
			{Code: engine.CodeDepositShort, Severity: engine.SevError, City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Feed: "deposit",
				Amount: -3450, HasAmount: true, Detail: "CASH: expected 1084.50, deposited 1050.00", Source: "deposit/TY0001-01", Key: "CASH"},
			{Code: engine.CodeDuplicateTxn, Severity: engine.SevWarning, City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Feed: "order",
				TxnID: "+1", Detail: "-2", Source: "order.csv:7"},
			{Code: engine.CodeRefundNotApproved, Severity: engine.SevError, City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Feed: "reversal",
				TxnID: "R001", Amount: 15000, HasAmount: true, Detail: formulaText, Source: "reversal.csv:2"},
			{Code: engine.CodeInvoiceGap, Severity: engine.SevWarning, City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Feed: "invoice",
				Detail: "@x 发票代码 1100 缺号 00000012–00000014 吉𠮷 😀 bell\x07", Source: "invoice.csv:9", Key: "1100"},
			{Code: engine.CodeSummaryMismatch, Severity: engine.SevError, City: "TY", Outlet: "TY0001", Counter: "TY0001-01", Feed: "payment_summary",
				Amount: 100, HasAmount: true,
				Detail: "本地缴费/现金：交费日报 3 笔 1,300.00 元，明细 2 笔 1,200.00 元；LOCAL/CASH summary 3 rows 1300.00, detail 2 rows 1200.00 — a long detail that has to wrap over several lines in the PDF table",
				Source: "payment_summary.csv:3", Key: "LOCAL/CASH"},
			{Code: engine.CodeFeedMissing, Severity: engine.SevError, City: "TY", Outlet: "TY0001", Counter: "TY0001-02", Feed: "deposit",
				Detail: "no deposit file for TY0001-02", Source: "deposit/TY0001-02"},
		},
		Counters: []engine.CounterInfo{
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-01"},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-02", Incomplete: true, Why: []string{"FEED_MISSING deposit: no deposit file for TY0001-02"}},
			{City: "TY", Outlet: "TY0002", Counter: "TY0002-01"},
		},
	}
	res.Feeds[feed.Order] = buildFeed(t, mem, feed.Order, []row{
		c1("O001", "2026-11-21 09:30:00", "ORD1", "13900000001", "OPEN", int64(100000), "CASH"),
		c1("O002", "2026-11-21 10:00:00", "ORD2", "+8613900000002", "SIMCHG", int64(23450), "CASH"),
		c1("O003", "2026-11-21 10:05:00", "ORD3", "13900000003", "PLANCHG", int64(0), nil),
		c3("O101", "2026-11-21 11:00:00", "ORD9", "13900000009", "OPEN", int64(5000), "CASH"),
	})
	res.Feeds[feed.Purchase] = buildFeed(t, mem, feed.Purchase, []row{
		c1("P001", "2026-11-21 09:40:00", "ORD1", "860000000000001", "华为 Mate 60", int64(299900), "POS"),
	})
	res.Feeds[feed.Reversal] = buildFeed(t, mem, feed.Reversal, []row{
		c1("R001", "2026-11-21 15:00:00", "X9", "2026-11-20", "remote_payment", "REFUND", int64(15000), "CASH", nil, formulaText),
	})
	res.Feeds[feed.LocalPayment] = buildFeed(t, mem, feed.LocalPayment, []row{
		c1("L001", "2026-11-21 09:00:00", "13900009001", "@A990009001", int64(50000), "WECHAT"),
		c2("L201", "2026-11-21 09:10:00", "13900009002", "A990009002\x01", int64(10000), "CASH"),
	})
	res.Feeds[feed.Deposit] = buildFeed(t, mem, feed.Deposit, []row{
		c1("CASH", int64(105000), "S001"),
		c1("POS", int64(300000), nil),
		c1("WECHAT", int64(48800), "-2"),
	})
	res.Complete = false
	return res
}

func testOptions(lang string) Options {
	o := NewOptions()
	o.Lang = lang
	o.Workers = 2
	o.RunID = "20261122T080000-ab12"
	o.Source = "/data/boss/2026-11-21"
	o.GeneratedAt = time.Date(2026, 11, 22, 8, 0, 0, 0, engine.Shanghai)
	return o
}
