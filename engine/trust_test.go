package engine

import (
	"fmt"
	"strings"
	"testing"

	"settle/connectors"
	"settle/feed"
)

// placed renders what a run says about where counters are: every settlement and variance
// line, every exception's keys and every counter, as "city/outlet/counter".
func placed(res *Result) (settlement, variance, excs, counters []string) {
	for _, l := range res.Settlement {
		settlement = append(settlement, fmt.Sprintf("%s/%s/%s %s %s %d %d %d", l.City, l.Outlet, l.Counter, l.Category, l.PayMethod, l.TxnCount, l.Gross, l.Reversed))
	}
	for _, v := range res.Variance {
		variance = append(variance, fmt.Sprintf("%s/%s/%s %s %d %d", v.City, v.Outlet, v.Counter, v.PayMethod, v.Expected, v.Deposited))
	}
	for _, e := range res.Exceptions {
		excs = append(excs, fmt.Sprintf("%s %s/%s/%s %s %s %s", e.Code, e.City, e.Outlet, e.Counter, e.Feed, e.TxnID, e.Source))
	}
	for _, c := range res.Counters {
		counters = append(counters, fmt.Sprintf("%s/%s/%s", c.City, c.Outlet, c.Counter))
	}
	return
}

func TestCounterKeyConflict(t *testing.T) {
	tests := []struct {
		name       string
		rows       []row
		roster     []connectors.Counter
		perCounter bool // the local_payment rows are in C1's own file
		settlement []string
		excs       []string
		counters   []string
	}{
		{
			name:       "one order row carries another outlet",
			rows:       []row{r(LP, "txn_id=L1|amount=100.00"), r(LP, "txn_id=L2|amount=50.00"), r(ORD, "txn_id=O1|amount=20.00|outlet_id=O2")},
			settlement: []string{"TY/O1/C1 LOCAL_BILL CASH 2 15000 0", "TY/O1/C1 ORDER_FEE CASH 1 2000 0"},
			excs: []string{
				"COUNTER_KEY_CONFLICT TY/O1/C1 order O1 order.csv:2",
				"DEPOSIT_SHORT TY/O1/C1 deposit  local_payment.csv:2",
				"SUMMARY_MISMATCH TY/O1/C1 payment_summary  local_payment.csv:2",
			},
			counters: []string{"TY/O1/C1"},
		},
		{
			name:       "only the city is another",
			rows:       []row{r(LP, "txn_id=L1"), r(LP, "txn_id=L2|city=DT"), r(LP, "txn_id=L3")},
			settlement: []string{"TY/O1/C1 LOCAL_BILL CASH 3 3000 0"},
			excs: []string{
				"COUNTER_KEY_CONFLICT TY/O1/C1 local_payment L2 local_payment.csv:3",
				"DEPOSIT_SHORT TY/O1/C1 deposit  local_payment.csv:2",
				"SUMMARY_MISMATCH TY/O1/C1 payment_summary  local_payment.csv:2",
			},
			counters: []string{"TY/O1/C1"},
		},
		{
			name:       "a counter seen in one row is where that row says",
			rows:       []row{r(LP, "txn_id=L1|outlet_id=O9|city=DT")},
			settlement: []string{"DT/O9/C1 LOCAL_BILL CASH 1 1000 0"},
			excs:       []string{"DEPOSIT_SHORT DT/O9/C1 deposit  local_payment.csv:2", "SUMMARY_MISMATCH DT/O9/C1 payment_summary  local_payment.csv:2"},
			counters:   []string{"DT/O9/C1"},
		},
		{
			name:       "a tie goes to the first row in canonical order (order before local_payment)",
			rows:       []row{r(LP, "txn_id=L1|outlet_id=O1"), r(ORD, "txn_id=O1|outlet_id=O2")},
			settlement: []string{"TY/O2/C1 LOCAL_BILL CASH 1 1000 0", "TY/O2/C1 ORDER_FEE CASH 1 1000 0"},
			excs: []string{
				"COUNTER_KEY_CONFLICT TY/O2/C1 local_payment L1 local_payment.csv:2",
				"DEPOSIT_SHORT TY/O2/C1 deposit  local_payment.csv:2",
				"SUMMARY_MISMATCH TY/O2/C1 payment_summary  local_payment.csv:2",
			},
			counters: []string{"TY/O2/C1"},
		},
		{
			name:       "the roster decides when the day was pulled",
			rows:       []row{r(LP, "txn_id=L1"), r(LP, "txn_id=L2")},
			roster:     []connectors.Counter{{City: "TY", Outlet: "O7", Counter: "C1"}},
			settlement: []string{"TY/O7/C1 LOCAL_BILL CASH 2 2000 0"},
			excs: []string{
				"COUNTER_KEY_CONFLICT TY/O7/C1 local_payment L1 local_payment.csv:2",
				"COUNTER_KEY_CONFLICT TY/O7/C1 local_payment L2 local_payment.csv:3",
				"DEPOSIT_SHORT TY/O7/C1 deposit  local_payment.csv:2",
				"SUMMARY_MISMATCH TY/O7/C1 payment_summary  local_payment.csv:2",
			},
			counters: []string{"TY/O7/C1"},
		},
		{
			name:       "a malformed outlet_id stays a malformed row, under the counter",
			rows:       []row{r(LP, "txn_id=L1"), r(LP, "txn_id=L2|outlet_id=O 1")},
			settlement: []string{"TY/O1/C1 LOCAL_BILL CASH 1 1000 0"},
			excs: []string{
				"DEPOSIT_SHORT TY/O1/C1 deposit  local_payment.csv:2",
				"MALFORMED_ROW TY/O 1/C1 local_payment L2 local_payment.csv:3",
				"SUMMARY_MISMATCH TY/O1/C1 payment_summary  local_payment.csv:2",
			},
			counters: []string{"TY/O1/C1"},
		},
		{
			name:       "a counter whose rows all sit in its own file",
			rows:       []row{r(LP, "txn_id=L1"), r(LP, "txn_id=L2|outlet_id=O2"), r(LP, "txn_id=L3")},
			perCounter: true,
			settlement: []string{"TY/O1/C1 LOCAL_BILL CASH 3 3000 0"},
			excs: []string{
				"COUNTER_KEY_CONFLICT TY/O1/C1 local_payment L2 O1/TY_C1_本地缴费日报.csv:3",
				"DEPOSIT_SHORT TY/O1/C1 deposit  O1/TY_C1_本地缴费日报.csv:2",
				"SUMMARY_MISMATCH TY/O1/C1 payment_summary  O1/TY_C1_本地缴费日报.csv:2",
			},
			counters: []string{"TY/O1/C1"},
		},
		{
			name: "deposits and the summary follow the counter, not the row",
			rows: []row{
				r(LP, "txn_id=L1|amount=10.00"), r(LP, "txn_id=L2|amount=10.00"), r(LP, "txn_id=L3|amount=10.00"),
				r(SUM, "category=LOCAL|txn_count=3|amount=30.00|outlet_id=O2"),
				r(DEP, "amount=30.00|outlet_id=O2"),
			},
			settlement: []string{"TY/O1/C1 LOCAL_BILL CASH 3 3000 0"},
			excs: []string{
				"COUNTER_KEY_CONFLICT TY/O1/C1 deposit  deposit.csv:2",
				"COUNTER_KEY_CONFLICT TY/O1/C1 payment_summary  payment_summary.csv:2",
			},
			counters: []string{"TY/O1/C1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dayOf(tt.rows...)
			d.Roster = tt.roster
			if tt.perCounter {
				in := &d.Inputs[LP]
				in.Name, in.Counter = "O1/TY_C1_本地缴费日报.csv", "C1"
			}
			res := reconcile(t, d, nil)
			settlement, _, excs, counters := placed(res)
			sameStrings(t, "settlement", settlement, tt.settlement)
			sameStrings(t, "exceptions", excs, tt.excs)
			sameStrings(t, "counters", counters, tt.counters)
			for _, rec := range res.Feeds {
				for r := 0; r < int(rec.NumRows()); r++ {
					got := triple{str(rec, feed.ColCity, r), str(rec, feed.ColOutlet, r), str(rec, feed.ColCounter, r)}
					if fmt.Sprintf("%s/%s/%s", got.city, got.outlet, got.counter) != tt.counters[0] {
						t.Errorf("normalized row %d carries %+v, want the counter's %s", r, got, tt.counters[0])
					}
				}
			}
		})
	}
}

func TestCounterKeyConflictDetail(t *testing.T) {
	rows := []row{r(LP, "txn_id=L1"), r(LP, "txn_id=L2"), r(ORD, "txn_id=O1|outlet_id=O2|city=DT")}
	for _, tt := range []struct{ lang, want string }{
		{"", "该行的地市/营业厅为 DT/O2，工号 C1 属于 TY/O1；按 TY/O1 计入"},
		{"zh", "该行的地市/营业厅为 DT/O2，工号 C1 属于 TY/O1；按 TY/O1 计入"},
		{"en", "row carries city/outlet DT/O2, counter C1 belongs to TY/O1; counted under TY/O1"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			res := reconcileLang(t, dayOf(rows...), tt.lang)
			var got []string
			for _, e := range res.Exceptions {
				if e.Code == CodeCounterKeyConflict {
					got = append(got, e.Detail+" "+string(e.Severity))
					if e.Source != "order.csv:2" || e.TxnID != "O1" || e.City != "TY" || e.Outlet != "O1" || e.Counter != "C1" {
						t.Errorf("exception = %+v", e)
					}
				}
			}
			sameStrings(t, "details", got, []string{tt.want + " ERROR"})
		})
	}
}

// TestForeignRowInPerCounterInput: a pull or a counter's file holds that counter's rows only.
func TestForeignRowInPerCounterInput(t *testing.T) {
	d := dayOf(r(ORD, "txn_id=O1"), r(ORD, "txn_id=O2|counter_id=C2"))
	d.Inputs[LP] = connectors.Input{Feed: LP, Name: "local_payment/C1", Counter: "C1", Pull: true,
		Open: connectors.Bytes([]byte(csvOf(LP, []string{"txn_id=L1", "txn_id=L2|counter_id=C2", "txn_id=L3|counter_id=GHOST"})))}
	d.Inputs = append(d.Inputs, connectors.Input{Feed: LP, Name: "O1/TY_C2_本地缴费日报.csv", Counter: "C2",
		Open: connectors.Bytes([]byte(csvOf(LP, []string{"txn_id=L4|counter_id=C2", "txn_id=L5"})))})
	res := reconcileLang(t, d, "en")
	settlement, _, excs, counters := placed(res)
	sameStrings(t, "settlement", settlement, []string{
		"TY/O1/C1 LOCAL_BILL CASH 1 1000 0", "TY/O1/C1 ORDER_FEE CASH 1 1000 0",
		"TY/O1/C2 LOCAL_BILL CASH 1 1000 0", "TY/O1/C2 ORDER_FEE CASH 1 1000 0",
	})
	var malformed []string
	for _, e := range res.Exceptions {
		if e.Code == CodeMalformedRow {
			malformed = append(malformed, fmt.Sprintf("%s/%s/%s %s %s | %s", e.City, e.Outlet, e.Counter, e.TxnID, e.Source, e.Detail))
		}
	}
	sameStrings(t, "malformed", malformed, []string{
		"TY/O1/C1 L2 local_payment/C1 | row of counter C2 in the input of counter C1",
		"TY/O1/C1 L3 local_payment/C1 | row of counter GHOST in the input of counter C1",
		"TY/O1/C2 L5 O1/TY_C2_本地缴费日报.csv:3 | row of counter C1 in the input of counter C2",
	})
	var rejects []string
	for _, rj := range res.Rejects {
		rejects = append(rejects, fmt.Sprintf("%s %s:%d %s | %s", rj.Feed, rj.Source, rj.Line, rj.Reason, rj.Raw))
	}
	sameStrings(t, "rejects", rejects, []string{
		"local_payment local_payment/C1:3 MALFORMED_ROW: row of counter C2 in the input of counter C1 | " + strings.Split(csvOf(LP, []string{"txn_id=L2|counter_id=C2"}), "\n")[1],
		"local_payment local_payment/C1:4 MALFORMED_ROW: row of counter GHOST in the input of counter C1 | " + strings.Split(csvOf(LP, []string{"txn_id=L3|counter_id=GHOST"}), "\n")[1],
		"local_payment O1/TY_C2_本地缴费日报.csv:3 MALFORMED_ROW: row of counter C1 in the input of counter C2 | " + strings.Split(csvOf(LP, []string{"txn_id=L5"}), "\n")[1],
	})
	sameStrings(t, "counters", counters, []string{"TY/O1/C1", "TY/O1/C2"})
	_ = excs
	if c := res.Counts[LP]; c.Read != 5 || c.Valid != 2 || c.Rejected != 3 {
		t.Errorf("local_payment counts = %+v, want 5 read, 2 valid, 3 rejected", c)
	}

	zh := reconcileLang(t, d, "")
	var zhDetails []string
	for _, e := range zh.Exceptions {
		if e.Code == CodeMalformedRow && e.TxnID == "L2" {
			zhDetails = append(zhDetails, e.Detail)
		}
	}
	sameStrings(t, "zh detail of L2", zhDetails, []string{"工号 C2 的行出现在工号 C1 的报表中"})
}

func TestDuplicateInput(t *testing.T) {
	dep := csvOf(DEP, []string{"amount=100.00|slip_no=S1", "amount=50.00|pay_method=WECHAT|slip_no=S2"})
	d := dayOf(r(ORD, "txn_id=O1|amount=120.00"), r(ORD, "txn_id=O2|amount=50.00|pay_method=WECHAT"))
	d.Inputs[DEP] = input(DEP, "a/deposit.csv", dep)
	d.Inputs = append(d.Inputs, input(DEP, "b/deposit.csv", dep))
	// Two empty exports are byte-identical too, but hold no data rows: both are read.
	d.Inputs = append(d.Inputs, input(INV, "x/invoice.csv", csvOf(INV, nil)))
	res := reconcileLang(t, d, "en")
	_, variance, _, _ := placed(res)
	sameStrings(t, "variance", variance, []string{"TY/O1/C1 CASH 12000 10000", "TY/O1/C1 WECHAT 5000 5000"})
	var got []string
	for _, e := range res.Exceptions {
		got = append(got, fmt.Sprintf("%s %s %s %s | %s | %s", e.Code, e.Severity, e.Counter, e.Feed, e.Source, e.Detail))
	}
	sameStrings(t, "exceptions", got, []string{
		"DEPOSIT_SHORT ERROR C1 deposit | a/deposit.csv:2 | CASH: expected 120.00, deposited 100.00, variance -20.00",
		"DUPLICATE_INPUT ERROR  deposit | b/deposit.csv | byte-identical to a/deposit.csv, an earlier input of the feed; not read",
	})
	if len(res.Rejects) != 0 {
		t.Errorf("rejects = %+v, want none", res.Rejects)
	}
	if !res.Complete {
		t.Errorf("a duplicated input makes the run incomplete")
	}
	if c := res.Counts[DEP]; c.Inputs != 2 || c.Read != 2 || c.Valid != 2 {
		t.Errorf("deposit counts = %+v, want 2 inputs, 2 rows read, 2 valid", c)
	}

	t.Run("a per-counter input carries its counter", func(t *testing.T) {
		d := dayOf(r(ORD, "txn_id=O1|amount=100.00"))
		d.Inputs[DEP] = connectors.Input{Feed: DEP, Name: "deposit/C1", Counter: "C1", Pull: true, Open: connectors.Bytes([]byte(dep))}
		d.Inputs = append(d.Inputs, connectors.Input{Feed: DEP, Name: "old/TY_C1_解款日报.csv", Counter: "C1", Open: connectors.Bytes([]byte(dep))})
		res := reconcileLang(t, d, "")
		var got []string
		for _, e := range res.Exceptions {
			if e.Code == CodeDuplicateInput {
				got = append(got, fmt.Sprintf("%s/%s/%s %s %s | %s", e.City, e.Outlet, e.Counter, e.Source, e.Key, e.Detail))
			}
		}
		sameStrings(t, "duplicate input", got, []string{"TY/O1/C1 old/TY_C1_解款日报.csv old/TY_C1_解款日报.csv | 与同一报表在前的 deposit/C1 逐字节相同，未读取"})
	})

	// C2's pull holds C1's report byte for byte and sorts first: it is not the original of
	// C1's own pull (which is read, C1's deposits stand); its rows are C1's, set aside.
	t.Run("another counter's report byte for byte is no repeat", func(t *testing.T) {
		one := csvOf(DEP, []string{"amount=100.00|slip_no=S1"})
		d := dayOf(r(ORD, "txn_id=O1|amount=100.00"), r(ORD, "txn_id=O2|amount=30.00|counter_id=C2"))
		d.Inputs[DEP] = connectors.Input{Feed: DEP, Name: "deposit/C0", Counter: "C2", Pull: true, Open: connectors.Bytes([]byte(one))}
		d.Inputs = append(d.Inputs, connectors.Input{Feed: DEP, Name: "deposit/C1", Counter: "C1", Pull: true, Open: connectors.Bytes([]byte(one))})
		res := reconcileLang(t, d, "en")
		_, variance, _, _ := placed(res)
		sameStrings(t, "variance", variance, []string{"TY/O1/C1 CASH 10000 10000", "TY/O1/C2 CASH 3000 0"})
		sameStrings(t, "duplicate input", findings(res, CodeDuplicateInput), nil)
		var foreign []string
		for _, e := range res.Exceptions {
			if e.Code == CodeMalformedRow {
				foreign = append(foreign, e.Counter+" "+e.Source+" "+e.Detail)
			}
		}
		sameStrings(t, "foreign rows", foreign, []string{"C2 deposit/C0 row of counter C1 in the input of counter C2"})
	})
}

func TestDuplicateDepositSlip(t *testing.T) {
	tests := []struct {
		name string
		rows []row
		want []string
		dep  []string
	}{
		{"re-exported in another order",
			[]row{r(DEP, "amount=100.00|slip_no=S1"), r(DEP, "amount=50.00|slip_no=S2"), r(DEP, "amount=50.00|slip_no=S2"), r(DEP, "amount=100.00|slip_no=S1")},
			[]string{"DUPLICATE_TXN WARNING C1 deposit S2 ", "DUPLICATE_TXN WARNING C1 deposit S1 "},
			[]string{"TY/O1/C1 CASH 0 15000"}},
		{"same slip, another amount", []row{r(DEP, "amount=100.00|slip_no=S1"), r(DEP, "amount=90.00|slip_no=S1")},
			[]string{"DUPLICATE_TXN ERROR C1 deposit S1 "}, []string{"TY/O1/C1 CASH 0 10000"}},
		{"same slip at two counters is no duplicate", []row{r(DEP, "amount=100.00|slip_no=S1"), r(DEP, "amount=100.00|slip_no=S1|counter_id=C2")},
			nil, []string{"TY/O1/C1 CASH 0 10000", "TY/O1/C2 CASH 0 10000"}},
		{"empty slips are never duplicates", []row{r(DEP, "amount=100.00"), r(DEP, "amount=100.00")},
			nil, []string{"TY/O1/C1 CASH 0 20000"}},
		{"a slip number equal to a txn_id is no duplicate", []row{r(LP, "txn_id=S1|amount=100.00"), r(DEP, "amount=100.00|slip_no=S1")},
			nil, []string{"TY/O1/C1 CASH 10000 10000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := reconcile(t, dayOf(tt.rows...), nil)
			sameStrings(t, "findings", findings(res, CodeDuplicateTxn), tt.want)
			_, variance, _, _ := placed(res)
			sameStrings(t, "variance", variance, tt.dep)
			if len(res.Rejects) != len(tt.want) {
				t.Errorf("rejects = %+v, want %d", res.Rejects, len(tt.want))
			}
		})
	}
}

// reconcileLang is reconcile with the language of the details set.
func reconcileLang(t *testing.T, d *connectors.Day, lang string) *Result {
	t.Helper()
	return reconcileIn(t, d, nil, lang)
}

func TestConfigLang(t *testing.T) {
	for lang, want := range map[string]string{"": "", "zh": "", "en": "", "fr": `lang: "fr", want zh or en`} {
		cfg := NewConfig()
		cfg.Date = testDate
		cfg.Lang = lang
		got := ""
		if err := cfg.Validate(); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Validate with lang %q = %q, want %q", lang, got, want)
		}
	}
}
