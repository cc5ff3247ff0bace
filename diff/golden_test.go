package diff

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"settle/diff/difftest"
	"settle/engine"
	"settle/feed"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var shanghai = time.FixedZone("CST", 8*3600)

const (
	idA = "20261122T013000Z-aaaaaaaa"
	idB = "20261122T020000Z-bbbbbbbb"
)

// baseResult is a small day of three counters in two cities; every case starts from two
// copies of it and changes what it is about.
func baseResult() *engine.Result {
	res := &engine.Result{
		Date:     time.Date(2026, 11, 21, 0, 0, 0, 0, shanghai),
		Complete: true,
		Settlement: []engine.SettlementLine{
			{City: "大同", Outlet: "DT0002", Counter: "DT0002-01", Category: "CARD", PayMethod: "CASH", TxnCount: 2, Gross: 10000, Net: 10000},
			{City: "太原", Outlet: "TY0001", Counter: "TY0001-01", Category: "ORDER_FEE", PayMethod: "CASH", TxnCount: 3, Gross: 15000, Net: 15000},
			{City: "太原", Outlet: "TY0001", Counter: "TY0001-01", Category: "TERMINAL", PayMethod: "POS", TxnCount: 1, Gross: 399900, Net: 399900},
			{City: "太原", Outlet: "TY0001", Counter: "TY0001-02", Category: "LOCAL_BILL", PayMethod: "WECHAT", TxnCount: 5, Gross: 25000, Reversed: 5000, Net: 20000},
		},
		Variance: []engine.VarianceLine{
			{City: "大同", Outlet: "DT0002", Counter: "DT0002-01", PayMethod: "CASH", Expected: 10000, Deposited: 9000, Variance: -1000},
			{City: "太原", Outlet: "TY0001", Counter: "TY0001-01", PayMethod: "CASH", Expected: 15000, Deposited: 15000},
			{City: "太原", Outlet: "TY0001", Counter: "TY0001-01", PayMethod: "POS", Expected: 399900, Deposited: 399900},
			{City: "太原", Outlet: "TY0001", Counter: "TY0001-02", PayMethod: "WECHAT", Expected: 20000, Deposited: 20000},
		},
		Exceptions: []engine.Exception{
			{Code: engine.CodeDepositShort, Severity: engine.SevError, City: "大同", Outlet: "DT0002", Counter: "DT0002-01", Feed: "deposit",
				Amount: -1000, HasAmount: true, Detail: "CASH：应解 100.00，实解 90.00", Source: "大同_DT0002-01_解款.csv:2", Key: "CASH"},
			{Code: engine.CodeRemotePending, Severity: engine.SevWarning, City: "太原", Outlet: "TY0001", Counter: "TY0001-01", Feed: "remote_payment",
				TxnID: "R100", Amount: 5000, HasAmount: true, Detail: "异地缴费待清算", Source: "remote_payment.csv:4"},
			{Code: engine.CodeInvoiceGap, Severity: engine.SevWarning, City: "太原", Outlet: "TY0001", Counter: "TY0001-02", Feed: "invoice",
				Detail: "invoice code 0351: 00000008-00000009 missing", Source: "invoice.csv", Key: "0351/00000008-00000009"},
		},
		Counters: []engine.CounterInfo{
			{City: "大同", Outlet: "DT0002", Counter: "DT0002-01"},
			{City: "太原", Outlet: "TY0001", Counter: "TY0001-01"},
			{City: "太原", Outlet: "TY0001", Counter: "TY0001-02"},
		},
		InputDigest: "inputs-1",
	}
	for _, id := range feed.All {
		res.Counts[id] = engine.FeedCounts{Inputs: 1, Read: 10, Valid: 10}
		res.FeedDigests[id] = id.String() + "-1"
	}
	return res
}

// goldenCase changes b (and the manifests' metadata) from two copies of baseResult.
type goldenCase struct {
	name   string
	equal  bool
	change func(a, b *engine.Result, ma, mb *difftest.Meta)
}

// newInput marks feed id of r as read from other inputs.
func newInput(r *engine.Result, id feed.ID) {
	r.FeedDigests[id] = id.String() + "-2"
	r.InputDigest = "inputs-2"
}

var goldenCases = []goldenCase{
	{name: "equal", equal: true, change: func(a, b *engine.Result, ma, mb *difftest.Meta) {}},
	{name: "settlement_changed", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// One more order at TY0001-01, paid in cash and deposited.
		b.Settlement[1].TxnCount, b.Settlement[1].Gross, b.Settlement[1].Net = 4, 20000, 20000
		b.Variance[1].Expected, b.Variance[1].Deposited = 20000, 20000
		newInput(b, feed.Order)
		newInput(b, feed.Deposit)
		b.Counts[feed.Order] = engine.FeedCounts{Inputs: 1, Read: 11, Valid: 11}
	}},
	{name: "settlement_added_removed", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// The card sale of DT0002-01 is gone; TY0001-02 has a cash bill payment.
		b.Settlement = append(b.Settlement[1:], engine.SettlementLine{City: "太原", Outlet: "TY0001", Counter: "TY0001-02",
			Category: "LOCAL_BILL", PayMethod: "CASH", TxnCount: 1, Gross: 3000, Net: 3000})
		newInput(b, feed.CardSale)
		newInput(b, feed.LocalPayment)
	}},
	{name: "corrected_deposit", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// The deposit export of DT0002-01 is corrected: the shortfall is resolved.
		b.Variance[0].Deposited, b.Variance[0].Variance = 10000, 0
		b.Exceptions = b.Exceptions[1:]
		newInput(b, feed.Deposit)
	}},
	{name: "exception_added", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// A duplicated order row (two findings of one identity) and a city-wide missing feed.
		for _, line := range []string{"7", "9"} {
			b.Exceptions = append(b.Exceptions, engine.Exception{Code: engine.CodeDuplicateTxn, Severity: engine.SevError, City: "太原",
				Outlet: "TY0001", Counter: "TY0001-01", Feed: "order", TxnID: "T9", Detail: "txn_id T9 appears twice",
				Source: "order.csv:" + line})
		}
		b.Exceptions = append(b.Exceptions, engine.Exception{Code: engine.CodeFeedMissing, Severity: engine.SevError, Feed: "card_sale",
			Detail: "no card_sale export for the day", Source: "card_sale"})
		b.Complete = false
		newInput(b, feed.Order)
		newInput(b, feed.CardSale)
	}},
	{name: "exception_resolved", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// The missing invoices turned up.
		b.Exceptions = slices.Delete(b.Exceptions, 2, 3)
		newInput(b, feed.Invoice)
	}},
	{name: "exception_changed", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// The remote payment grew and was rejected; two summary findings told apart by key.
		b.Exceptions[1].Amount, b.Exceptions[1].Detail, b.Exceptions[1].Severity = 6000, "异地缴费清算失败", "ERROR"
		sm := engine.Exception{Code: engine.CodeSummaryMismatch, Severity: engine.SevError, City: "太原", Outlet: "TY0001", Counter: "TY0001-02",
			Feed: "payment_summary", Amount: 500, HasAmount: true, Detail: "LOCAL/CASH: summary 2 txns 30.00, detail 1 txn 25.00",
			Source: "payment_summary.csv:3", Key: "LOCAL/CASH"}
		a.Exceptions = append(a.Exceptions, sm)
		sm.Amount, sm.Detail = 800, "LOCAL/CASH: summary 2 txns 33.00, detail 1 txn 25.00"
		other := sm
		other.Key, other.Amount, other.Detail, other.Source = "LOCAL/WECHAT", 100, "LOCAL/WECHAT: summary 6 txns 201.00, detail 5 txns 200.00", "payment_summary.csv:4"
		b.Exceptions = append(b.Exceptions, sm, other)
		newInput(b, feed.RemotePayment)
		newInput(b, feed.PaymentSummary)
	}},
	{name: "same_identity_twice", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// Malformed deposit rows carry no txn_id, so three findings share one identity: one
		// stays, one is fixed (resolved), one changed its detail at the same line.
		mk := func(line, detail string) engine.Exception {
			return engine.Exception{Code: engine.CodeMalformedRow, Severity: engine.SevError, City: "太原", Outlet: "TY0001", Counter: "TY0001-02",
				Feed: "deposit", Detail: detail, Source: "deposit.csv:" + line}
		}
		a.Exceptions = append(a.Exceptions, mk("3", `amount "12,34.00" is not an amount`), mk("5", "pay_method missing"), mk("7", `date "2026-13-01"`))
		b.Exceptions = append(b.Exceptions, mk("3", `amount "12,34.00" is not an amount`), mk("5", `pay_method "现金x" unknown`))
		newInput(b, feed.Deposit)
	}},
	{name: "cause_version", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// Same inputs, a new version words the invoice gap in Chinese.
		mb.ToolVersion = "0.2.0"
		b.Exceptions[2].Detail = "发票代码 0351：缺号 00000008-00000009"
	}},
	{name: "cause_both", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		mb.ToolVersion = "0.2.0"
		b.Settlement[3].Reversed, b.Settlement[3].Net = 0, 25000
		b.Variance[3].Expected, b.Variance[3].Variance = 25000, -5000
		newInput(b, feed.Reversal)
	}},
	{name: "cause_neither", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// Same inputs and version, yet a reversal's original was found in a stored run.
		b.Exceptions = append(b.Exceptions, engine.Exception{Code: engine.CodeReversalNoHistory, Severity: engine.SevWarning, City: "太原",
			Outlet: "TY0001", Counter: "TY0001-02", Feed: "reversal", TxnID: "V1", Amount: 5000, HasAmount: true,
			Detail: "no stored run of 2026-11-01", Source: "reversal.csv:2"})
	}},
	{name: "cause_counts", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// Manifests written before input checksums: the counts tell the inputs changed.
		for _, r := range []*engine.Result{a, b} {
			r.InputDigest, r.FeedDigests = "", [feed.Count]string{}
		}
		b.Counts[feed.Deposit] = engine.FeedCounts{Inputs: 1, Read: 11, Valid: 11}
		b.Variance[0].Deposited, b.Variance[0].Variance = 9500, -500
		b.Exceptions[0].Amount, b.Exceptions[0].Detail = -500, "CASH：应解 100.00，实解 95.00"
	}},
	{name: "detail_language", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// Run a from before details followed --lang, run b with --lang en: the shortfall's
		// detail is only translated (no change); the pending payment grew (a change of its
		// amount, its detail not compared).
		b.Lang = "en"
		b.Exceptions[0].Detail = "CASH: expected 100.00, deposited 90.00, variance -10.00"
		b.Exceptions[1].Amount, b.Exceptions[1].Detail = 6000, "clearing pending"
		newInput(b, feed.RemotePayment)
	}},
	{name: "other_date", change: func(a, b *engine.Result, ma, mb *difftest.Meta) {
		// The next day, with one figure moved: lines are matched without the date.
		b.Date = b.Date.AddDate(0, 0, 1)
		b.InputDigest = "inputs-next-day"
		for _, id := range feed.All {
			b.FeedDigests[id] = id.String() + "-next-day"
		}
		b.Settlement[0].TxnCount, b.Settlement[0].Gross, b.Settlement[0].Net = 1, 5000, 5000
		b.Variance[0].Expected, b.Variance[0].Variance = 5000, 4000
		b.Exceptions[0] = engine.Exception{Code: engine.CodeDepositOver, Severity: engine.SevWarning, City: "大同", Outlet: "DT0002", Counter: "DT0002-01",
			Feed: "deposit", Amount: 4000, HasAmount: true, Detail: "CASH：应解 50.00，实解 90.00", Source: "大同_DT0002-01_解款.csv:2", Key: "CASH"}
	}},
}

// publishPair publishes the case's two runs into a fresh store and returns its directory
// and the two run directories.
func publishPair(t testing.TB, c goldenCase) (storeDir, dirA, dirB string) {
	t.Helper()
	a, b := baseResult(), baseResult()
	ma := difftest.Meta{RunID: idA, ToolVersion: "0.1.0"}
	mb := difftest.Meta{RunID: idB, ToolVersion: "0.1.0", At: time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)}
	c.change(a, b, &ma, &mb)
	storeDir = filepath.Join(t.TempDir(), "store")
	var err error
	if dirA, err = difftest.Publish(storeDir, a, ma); err != nil {
		t.Fatal(err)
	}
	if dirB, err = difftest.Publish(storeDir, b, mb); err != nil {
		t.Fatal(err)
	}
	return storeDir, dirA, dirB
}

func loadPair(t testing.TB, dirA, dirB string) (*Run, *Run) {
	t.Helper()
	a, err := Load(dirA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(dirB)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			storeDir, dirA, dirB := publishPair(t, c)
			a, b := loadPair(t, dirA, dirB)
			d := Compare(a, b)
			if d.Equal() != c.equal {
				t.Errorf("Equal() = %v, want %v", d.Equal(), c.equal)
			}
			// Paths in the outputs relative to the store.
			for _, r := range []*RunInfo{&d.A, &d.B} {
				rel, err := filepath.Rel(storeDir, r.Dir)
				if err != nil {
					t.Fatal(err)
				}
				r.Dir = "$STORE/" + filepath.ToSlash(rel)
			}
			outputs := []struct {
				name  string
				write func(*bytes.Buffer) error
			}{
				{"diff.txt", func(w *bytes.Buffer) error { return WriteTable(w, d) }},
				{"diff.csv", func(w *bytes.Buffer) error { return WriteCSV(w, d) }},
				{"diff.json", func(w *bytes.Buffer) error { return WriteJSON(w, d) }},
				{"diff.xlsx.txt", func(w *bytes.Buffer) error { return dumpXLSX(w, d) }},
			}
			for _, o := range outputs {
				var buf bytes.Buffer
				if err := o.write(&buf); err != nil {
					t.Fatalf("%s: %v", o.name, err)
				}
				checkGolden(t, filepath.Join("testdata", c.name, "expected", o.name), buf.Bytes())
			}
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// dumpXLSX writes the diff as XLSX and renders the workbook as text, cell by cell: strings
// quoted, numbers bare with their number format, so that the golden file shows cell types.
// A formula anywhere fails the dump.
func dumpXLSX(w *bytes.Buffer, d *Diff) error {
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, d); err != nil {
		return err
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, sheet := range f.GetSheetList() {
		fmt.Fprintf(w, "== %s\n", sheet)
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			return err
		}
		for ri, row := range rows {
			cells := make([]string, 0, len(row))
			for ci, v := range row {
				ref, _ := excelize.CoordinatesToCellName(ci+1, ri+1)
				if v == "" {
					cells = append(cells, "")
					continue
				}
				if fm, _ := f.GetCellFormula(sheet, ref); fm != "" {
					return fmt.Errorf("%s!%s is a formula: %s", sheet, ref, fm)
				}
				typ, err := f.GetCellType(sheet, ref)
				if err != nil {
					return err
				}
				switch typ {
				case excelize.CellTypeUnset, excelize.CellTypeNumber:
					style, _ := f.GetCellStyle(sheet, ref)
					format := ""
					if st, err := f.GetStyle(style); err == nil && st.CustomNumFmt != nil {
						format = " " + *st.CustomNumFmt
					} else if err == nil && st.NumFmt != 0 {
						format = fmt.Sprintf(" fmt%d", st.NumFmt)
					}
					cells = append(cells, v+format)
				default:
					cells = append(cells, fmt.Sprintf("%q", v))
				}
			}
			fmt.Fprintf(w, "%d: %s\n", ri+1, strings.Join(cells, " | "))
		}
	}
	return nil
}
