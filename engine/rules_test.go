package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"settle/connectors"
	"settle/feed"
)

const (
	LP  = feed.LocalPayment
	RP  = feed.RemotePayment
	ORD = feed.Order
	PUR = feed.Purchase
	REV = feed.Reversal
	SUM = feed.PaymentSummary
	CRD = feed.CardSale
	INV = feed.Invoice
	DEP = feed.Deposit
)

func TestValidation(t *testing.T) {
	rowCodes := []Code{CodeMalformedRow, CodeWrongDate, CodeDuplicateTxn}
	tests := []struct {
		name string
		rows []row
		want []string
	}{
		{"valid row", []row{r(LP, "txn_id=L1")}, nil},
		{"negative amount", []row{r(LP, "txn_id=L1|amount=-5.00")}, []string{"MALFORMED_ROW ERROR C1 local_payment L1 "}},
		{"three decimals", []row{r(LP, "txn_id=L1|amount=1.234")}, []string{"MALFORMED_ROW ERROR C1 local_payment L1 "}},
		{"thousands separators", []row{r(LP, "txn_id=L1|amount=1,234.50")}, nil},
		{"zero amount outside order", []row{r(LP, "txn_id=L1|amount=0.00")}, []string{"MALFORMED_ROW ERROR C1 local_payment L1 "}},
		{"zero order without pay method", []row{r(ORD, "txn_id=O1|amount=0.00|pay_method=")}, nil},
		{"order with amount without pay method", []row{r(ORD, "txn_id=O1|amount=5.00|pay_method=")}, []string{"MALFORMED_ROW ERROR C1 order O1 "}},
		{"chinese enumeration", []row{r(LP, "txn_id=L1|pay_method=微信")}, nil},
		{"unknown enumeration", []row{r(LP, "txn_id=L1|pay_method=BITCOIN")}, []string{"MALFORMED_ROW ERROR C1 local_payment L1 "}},
		{"slash and compact dates", []row{r(LP, "txn_id=L1|biz_date=2026/11/21"), r(LP, "txn_id=L2|biz_date=20261121")}, nil},
		{"impossible date", []row{r(LP, "txn_id=L1|biz_date=2026-02-30")}, []string{"MALFORMED_ROW ERROR C1 local_payment L1 "}},
		{"wrong date", []row{r(LP, "txn_id=L1|biz_date=2026-11-20")}, []string{"WRONG_DATE ERROR C1 local_payment L1 "}},
		{"path-like counter id", []row{r(LP, "txn_id=L1|counter_id=../x")}, []string{"MALFORMED_ROW ERROR ../x local_payment L1 "}},
		{"id of 33 characters", []row{r(LP, "txn_id=L1|counter_id="+strings.Repeat("a", 33))}, []string{"MALFORMED_ROW ERROR " + strings.Repeat("a", 33) + " local_payment L1 "}},
		{"at the ceiling", []row{r(LP, "txn_id=L1|amount=1000000.00")}, nil},
		{"above the ceiling", []row{r(LP, "txn_id=L1|amount=1000000.01")}, []string{"MALFORMED_ROW ERROR C1 local_payment L1 "}},
		{"orig_date after biz_date", []row{r(REV, "txn_id=R1|orig_date=2026-11-22")}, []string{"MALFORMED_ROW ERROR C1 reversal R1 "}},
		{"required column empty", []row{r(LP, "txn_id=L1|msisdn=")}, []string{"MALFORMED_ROW ERROR C1 local_payment L1 "}},
		{"optional column empty", []row{r(PUR, "txn_id=P1|model=")}, []string{}},
		{"quantity zero", []row{r(CRD, "txn_id=K1|quantity=0")}, []string{"MALFORMED_ROW ERROR C1 card_sale K1 "}},
		{"serials of unequal length", []row{r(CRD, "txn_id=K1|serial_from=999|serial_to=1000|quantity=2")}, []string{"MALFORMED_ROW ERROR C1 card_sale K1 "}},
		{"identical duplicate", []row{r(LP, "txn_id=L1"), r(LP, "txn_id=L1")}, []string{"DUPLICATE_TXN WARNING C1 local_payment L1 "}},
		{"identical after normalizing", []row{r(LP, "txn_id=L1|amount=1234.50"), r(LP, "txn_id=L1|amount=1,234.5|pay_method=现金")}, []string{"DUPLICATE_TXN WARNING C1 local_payment L1 "}},
		{"different duplicate", []row{r(LP, "txn_id=L1"), r(LP, "txn_id=L1|amount=11.00")}, []string{"DUPLICATE_TXN ERROR C1 local_payment L1 "}},
		{"duplicate across feeds keeps the earlier feed", []row{r(LP, "txn_id=T1"), r(ORD, "txn_id=T1")}, []string{"DUPLICATE_TXN ERROR C1 local_payment T1 "}},
		{"a malformed row does not make the valid one a duplicate", []row{r(LP, "txn_id=L1|amount=x"), r(LP, "txn_id=L1")}, []string{"MALFORMED_ROW ERROR C1 local_payment L1 "}},
		{"wrong-date row is not kept for duplicates", []row{r(LP, "txn_id=L1|biz_date=2026-11-20"), r(LP, "txn_id=L1")}, []string{"WRONG_DATE ERROR C1 local_payment L1 "}},
		{"invoices and summaries are not checked for txn duplicates", []row{r(LP, "txn_id=L1"), r(INV, "txn_id=L1")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := reconcile(t, dayOf(tt.rows...), nil)
			sameStrings(t, "findings", findings(res, rowCodes...), tt.want)
			// Every finding of §1 is a rejected row, and no row is lost.
			if len(res.Rejects) != len(tt.want) {
				t.Errorf("rejects = %d, want %d: %+v", len(res.Rejects), len(tt.want), res.Rejects)
			}
			read, valid, rejected := 0, 0, 0
			for _, c := range res.Counts {
				read += c.Read
				valid += c.Valid
				rejected += c.Rejected
			}
			if read != len(tt.rows) || valid+rejected != read {
				t.Errorf("read %d, valid %d, rejected %d of %d rows", read, valid, rejected, len(tt.rows))
			}
		})
	}
}

func TestDuplicateCanonicalOrderIsByName(t *testing.T) {
	// b.csv comes first in the source's list, but a.csv sorts first: its row is kept.
	d := &connectors.Day{Inputs: []connectors.Input{
		input(LP, "b.csv", csvOf(LP, []string{"txn_id=L1|amount=20.00"})),
		input(LP, "a.csv", csvOf(LP, []string{"txn_id=L1|amount=10.00"})),
	}}
	res := reconcile(t, d, nil)
	if len(res.Rejects) != 1 || res.Rejects[0].Source != "b.csv" || res.Rejects[0].Line != 2 {
		t.Fatalf("rejects = %+v, want b.csv line 2", res.Rejects)
	}
	if e := res.Exceptions; len(e) == 0 || findings(res, CodeDuplicateTxn)[0] != "DUPLICATE_TXN ERROR C1 local_payment L1 " {
		t.Fatalf("exceptions = %+v", e)
	}
}

func TestSettlementAndDeposits(t *testing.T) {
	res := reconcile(t, dayOf(
		r(LP, "txn_id=L1|amount=100.00|pay_method=CASH"),
		r(LP, "txn_id=L2|amount=50.00|pay_method=WECHAT"),
		r(ORD, "txn_id=O1|amount=0.00|pay_method="),
		r(ORD, "txn_id=O2|amount=20.00|pay_method=CASH"),
		r(REV, "txn_id=R1|orig_txn_id=L1|orig_feed=local_payment|amount=30.00|pay_method=CASH"),
		// A refund paid out at C2 of C1's transaction is C2's money.
		r(REV, "txn_id=R2|counter_id=C2|orig_txn_id=L2|orig_feed=local_payment|amount=5.00|pay_method=WECHAT"),
		r(DEP, "pay_method=CASH|amount=90.00"),
		r(DEP, "pay_method=WECHAT|amount=20.00"),
		r(DEP, "pay_method=WECHAT|amount=20.00"),
		r(DEP, "pay_method=POS|amount=5.00"),
	), nil)
	var got []string
	for _, l := range res.Settlement {
		got = append(got, fmt.Sprintf("%s %s %s %d %d %d %d", l.Counter, l.Category, l.PayMethod, l.TxnCount, l.Gross, l.Reversed, l.Net))
	}
	sameStrings(t, "settlement", got, []string{
		"C1 LOCAL_BILL CASH 1 10000 3000 7000",
		"C1 LOCAL_BILL WECHAT 1 5000 0 5000",
		"C1 ORDER_FEE CASH 1 2000 0 2000",
		"C2 LOCAL_BILL WECHAT 0 0 500 -500",
	})
	got = nil
	for _, v := range res.Variance {
		got = append(got, fmt.Sprintf("%s %s %d %d %d", v.Counter, v.PayMethod, v.Expected, v.Deposited, v.Variance))
	}
	sameStrings(t, "variance", got, []string{
		"C1 CASH 9000 9000 0",
		"C1 POS 0 500 500",
		"C1 WECHAT 5000 4000 -1000",
		"C2 WECHAT -500 0 500",
	})
	sameStrings(t, "deposit findings", findings(res, CodeDepositShort, CodeDepositOver), []string{
		"DEPOSIT_OVER WARNING C1 deposit  5.00",
		"DEPOSIT_OVER WARNING C2 deposit  5.00",
		"DEPOSIT_SHORT ERROR C1 deposit  -10.00",
	})
}

func TestDepositFindingCitesEarliestLine(t *testing.T) {
	// C1 CASH has no deposit row: its finding cites the earliest row of its settlement lines,
	// line 9 (ORDER_FEE) before line 10 (LOCAL_BILL), as numbers rather than as text.
	var rows []row
	for i := 0; i < 7; i++ {
		rows = append(rows, r(REV, fmt.Sprintf("txn_id=F%d|counter_id=C9|amount=1.00", i)))
	}
	rows = append(rows,
		r(REV, "txn_id=R1|orig_txn_id=O1|orig_feed=order|amount=2.00"),
		r(REV, "txn_id=R2|orig_txn_id=L1|orig_feed=local_payment|amount=3.00"))
	res := reconcile(t, dayOf(rows...), nil)
	var got []string
	for _, e := range res.Exceptions {
		if e.Code == CodeDepositOver && e.Counter == "C1" {
			got = append(got, e.Source)
		}
	}
	sameStrings(t, "C1 deposit finding source", got, []string{"reversal.csv:9"})
}

func TestSummaryAgainstDetail(t *testing.T) {
	res := reconcile(t, dayOf(
		r(LP, "txn_id=L1|amount=100.00"), r(LP, "txn_id=L2|amount=50.00"),
		r(SUM, "category=LOCAL|pay_method=CASH|txn_count=2|amount=150.00"),
		// Two summary rows of one key add up.
		r(LP, "txn_id=L3|amount=10.00|pay_method=WECHAT"), r(LP, "txn_id=L4|amount=10.00|pay_method=WECHAT"),
		r(SUM, "category=LOCAL|pay_method=WECHAT|txn_count=1|amount=10.00"),
		r(SUM, "category=本地缴费|pay_method=微信|txn_count=1|amount=10.00"),
		// Amount differs.
		r(RP, "txn_id=M1|amount=20.00|pay_method=WECHAT"),
		r(SUM, "category=REMOTE|pay_method=WECHAT|txn_count=1|amount=25.00"),
		// Count differs, amount agrees.
		r(RP, "txn_id=M2|amount=30.00|pay_method=CASH"),
		r(SUM, "category=REMOTE|pay_method=CASH|txn_count=2|amount=30.00"),
		// Detail without summary, summary without detail.
		r(CRD, "txn_id=K1|amount=100.00"),
		r(SUM, "category=LOCAL|pay_method=POS|txn_count=1|amount=10.00"),
		// A rejected detail row is not detail.
		r(LP, "txn_id=L9|amount=7.00|pay_method=ALIPAY|biz_date=2026-11-20"),
		r(SUM, "category=LOCAL|pay_method=ALIPAY|txn_count=1|amount=7.00"),
	), nil)
	sameStrings(t, "summary findings", findings(res, CodeSummaryMismatch), []string{
		"SUMMARY_MISMATCH ERROR C1 payment_summary  -100.00",
		"SUMMARY_MISMATCH ERROR C1 payment_summary  0.00",
		"SUMMARY_MISMATCH ERROR C1 payment_summary  10.00",
		"SUMMARY_MISMATCH ERROR C1 payment_summary  5.00",
		"SUMMARY_MISMATCH ERROR C1 payment_summary  7.00",
	})
}

func TestPurchasesAndOrders(t *testing.T) {
	res := reconcile(t, dayOf(
		r(ORD, "txn_id=O1|service_code=CONTRACT|order_id=A"),
		r(ORD, "txn_id=O2|service_code=合约购机|order_id=B"),
		r(ORD, "txn_id=O3|service_code=OPEN|order_id=C"),
		r(ORD, "txn_id=O4|counter_id=C2|service_code=CONTRACT|order_id=D"),
		r(PUR, "txn_id=P1|order_id=A|imei=I1"),
		r(PUR, "txn_id=P2|order_id=C|imei=I9"),
		r(PUR, "txn_id=P3|order_id=A|imei=I1"),
		// A contract order of another counter still matches: the rule is city-wide.
		r(PUR, "txn_id=P8|order_id=D|imei=I8"),
		// I2 sold, voided in full, sold again: no duplicate.
		r(PUR, "txn_id=P4|order_id=A|imei=I2|amount=10.00"),
		r(REV, "txn_id=R1|kind=VOID|orig_feed=purchase|orig_txn_id=P4|amount=10.00"),
		r(PUR, "txn_id=P5|order_id=A|imei=I2"),
		// I3 sold, refunded in part, sold again: duplicate.
		r(PUR, "txn_id=P6|order_id=A|imei=I3|amount=10.00"),
		r(REV, "txn_id=R2|orig_feed=purchase|orig_txn_id=P6|amount=5.00"),
		r(PUR, "txn_id=P7|order_id=A|imei=I3"),
		// A rejected purchase neither matches nor counts for IMEI.
		r(PUR, "txn_id=P9|order_id=B|imei=I1|amount=-1.00"),
	), nil)
	sameStrings(t, "purchase findings", findings(res, CodePurchaseNoOrder, CodeOrderNoPurchase, CodeIMEIDuplicate), []string{
		"IMEI_DUPLICATE ERROR C1 purchase P3 ",
		"IMEI_DUPLICATE ERROR C1 purchase P7 ",
		"ORDER_NO_PURCHASE ERROR C1 order O2 ",
		"PURCHASE_NO_ORDER ERROR C1 purchase P2 ",
	})
}

// storedDay reconciles a day as an earlier run would have and returns its feeds.
func storedDay(t *testing.T, date string, rows ...row) map[feed.ID]arrowRecord {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02", date, Shanghai)
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewConfig()
	cfg.Date = d
	for i := range rows {
		rows[i].fields = "biz_date=" + date + "|txn_time=" + date + " 09:00:00|" + rows[i].fields
	}
	res, err := Reconcile(t.Context(), cfg, dayOf(rows...))
	if err != nil {
		t.Fatal(err)
	}
	out := map[feed.ID]arrowRecord{}
	for _, f := range feed.All {
		out[f] = res.Feeds[f]
	}
	return out
}

func TestReversals(t *testing.T) {
	hist := memHistory{
		"2026-11-20": storedDay(t, "2026-11-20",
			r(LP, "txn_id=H1|amount=60.00"),
			r(REV, "txn_id=HR1|orig_txn_id=H1|orig_date=2026-11-20|amount=40.00")),
		"2026-08-23": storedDay(t, "2026-08-23", r(LP, "txn_id=H3")),
		"2026-08-22": storedDay(t, "2026-08-22", r(LP, "txn_id=H2")),
	}
	codes := []Code{CodeReversalOrphan, CodeReversalNoHistory, CodeVoidNotSameDay, CodeVoidPartial,
		CodeReversalExceedsOriginal, CodeReversalMethodMismatch, CodeRefundNotApproved}
	res := reconcile(t, dayOf(
		r(LP, "txn_id=L1|amount=100.00"), r(LP, "txn_id=L2|amount=50.00"),
		r(LP, "txn_id=L3|amount=200.00"), r(LP, "txn_id=L4|amount=200.00"),
		r(LP, "txn_id=L5|amount=200.00"), r(LP, "txn_id=L6|amount=200.00"),
		r(RP, "txn_id=M1|amount=80.00|pay_method=WECHAT"),
		r(REV, "txn_id=R1|kind=VOID|orig_txn_id=L1|amount=100.00|txn_time=2026-11-21 10:00:00"),
		r(REV, "txn_id=R2|orig_txn_id=L1|amount=10.00|txn_time=2026-11-21 11:00:00"),
		r(REV, "txn_id=R2b|orig_txn_id=L1|amount=1.00|txn_time=2026-11-21 12:00:00"),
		r(REV, "txn_id=R3|kind=冲正|orig_txn_id=L2|amount=20.00"),
		r(REV, "txn_id=R4|orig_txn_id=NOPE|amount=1.00"),
		r(REV, "txn_id=R5|orig_txn_id=M1|orig_feed=local_payment|amount=1.00"),
		r(REV, "txn_id=R6|orig_txn_id=M1|orig_feed=异地缴费|amount=10.00|pay_method=POS"),
		r(REV, "txn_id=R7|orig_txn_id=Z7|orig_date=2026-11-10|amount=2.00"),
		r(REV, "txn_id=R8|kind=VOID|orig_txn_id=Z8|orig_date=2026-11-10|amount=3.00"),
		r(REV, "txn_id=R9|orig_txn_id=L3|amount=150.00"),
		r(REV, "txn_id=R10|orig_txn_id=L4|amount=100.01|approver_id=C1"),
		r(REV, "txn_id=R11|orig_txn_id=L5|amount=100.00"),
		r(REV, "txn_id=R12|orig_txn_id=L6|amount=120.00|approver_id=C9"),
		r(REV, "txn_id=R13|orig_txn_id=Z13|orig_date=2026-08-01|amount=4.00"),
		r(REV, "txn_id=R14|orig_txn_id=H1|orig_date=2026-11-20|amount=30.00"),
		r(REV, "txn_id=R15|orig_txn_id=H9|orig_date=2026-11-20|amount=5.00"),
		r(REV, "txn_id=R16|orig_txn_id=H3|orig_date=2026-08-23|amount=6.00"),
		r(REV, "txn_id=R17|orig_txn_id=H2|orig_date=2026-08-22|amount=7.00"),
	), hist)
	sameStrings(t, "reversal findings", findings(res, codes...), []string{
		"REVERSAL_EXCEEDS_ORIGINAL ERROR C1 reversal R2 10.00",
		"REVERSAL_EXCEEDS_ORIGINAL ERROR C1 reversal R2b 1.00",
		"VOID_PARTIAL ERROR C1 reversal R3 20.00",
		"REVERSAL_ORPHAN ERROR C1 reversal R4 1.00",
		"REVERSAL_ORPHAN ERROR C1 reversal R5 1.00",
		"REVERSAL_METHOD_MISMATCH WARNING C1 reversal R6 10.00",
		"REVERSAL_NO_HISTORY WARNING C1 reversal R7 2.00",
		"REVERSAL_NO_HISTORY WARNING C1 reversal R8 3.00",
		"VOID_NOT_SAME_DAY ERROR C1 reversal R8 3.00",
		"REFUND_NOT_APPROVED ERROR C1 reversal R9 150.00",
		"REFUND_NOT_APPROVED ERROR C1 reversal R10 100.01",
		"REVERSAL_NO_HISTORY WARNING C1 reversal R13 4.00",
		"REVERSAL_EXCEEDS_ORIGINAL ERROR C1 reversal R14 30.00",
		"REVERSAL_ORPHAN ERROR C1 reversal R15 5.00",
		"REVERSAL_NO_HISTORY WARNING C1 reversal R17 7.00",
	})
}

func TestRemotePayments(t *testing.T) {
	res := reconcile(t, dayOf(
		r(RP, "txn_id=M0|clearing_status=CONFIRMED"),
		r(RP, "txn_id=M1|clearing_status=待清算"),
		r(RP, "txn_id=M2|clearing_status=REJECTED|amount=40.00"),
		r(RP, "txn_id=M3|clearing_status=清算失败|amount=40.00"),
		r(REV, "txn_id=R3|orig_feed=remote_payment|orig_txn_id=M3|amount=40.00"),
		r(RP, "txn_id=M4|clearing_status=REJECTED|amount=40.00"),
		r(REV, "txn_id=R4|orig_feed=remote_payment|orig_txn_id=M4|amount=39.99"),
	), nil)
	sameStrings(t, "remote findings", findings(res, CodeRemotePending, CodeRemoteRejected), []string{
		"REMOTE_PENDING WARNING C1 remote_payment M1 ",
		"REMOTE_REJECTED ERROR C1 remote_payment M2 ",
		"REMOTE_REJECTED ERROR C1 remote_payment M4 ",
	})
}

func TestCards(t *testing.T) {
	res := reconcile(t, dayOf(
		r(CRD, "txn_id=K1|serial_from=1000|serial_to=1009|quantity=10|face_value=100.00|amount=1000.00"),
		r(CRD, "txn_id=K2|serial_from=2000|serial_to=2004|quantity=4|face_value=100.00|amount=400.00"),
		r(CRD, "txn_id=K3|serial_from=3000|serial_to=2999|quantity=1|face_value=100.00|amount=100.00"),
		r(CRD, "txn_id=K4|serial_from=4000|serial_to=4001|quantity=2|face_value=50.00|amount=150.00"),
		r(CRD, "txn_id=K5|serial_from=1005|serial_to=1015|quantity=11|face_value=100.00|amount=1100.00"),
		r(CRD, "txn_id=K6|counter_id=C2|serial_from=1009|serial_to=1009|quantity=1|face_value=100.00|amount=100.00"),
		r(CRD, "txn_id=K7|serial_from=1016|serial_to=1020|quantity=5|face_value=100.00|amount=500.00"),
		r(CRD, "txn_id=K8|serial_from=999999999999999999|serial_to=999999999999999999|quantity=1|face_value=100.00|amount=100.00"),
	), nil)
	sameStrings(t, "card findings", findings(res, CodeCardQtyMismatch, CodeCardAmountMismatch, CodeCardSerialOverlap), []string{
		"CARD_QTY_MISMATCH ERROR C1 card_sale K2 ",
		"CARD_QTY_MISMATCH ERROR C1 card_sale K3 ",
		"CARD_AMOUNT_MISMATCH ERROR C1 card_sale K4 ",
		"CARD_SERIAL_OVERLAP ERROR C1 card_sale K1 ",
		"CARD_SERIAL_OVERLAP ERROR C1 card_sale K5 ",
		"CARD_SERIAL_OVERLAP ERROR C2 card_sale K6 ",
	})
	for _, e := range res.Exceptions {
		if e.Code == CodeCardSerialOverlap && e.TxnID == "K1" && !strings.Contains(e.Detail, "K5, K6") {
			t.Errorf("K1's overlap detail %q does not name K5, K6", e.Detail)
		}
	}
}

func TestInvoices(t *testing.T) {
	res := reconcile(t, dayOf(
		r(LP, "txn_id=L1|amount=10.00"), r(LP, "txn_id=L2|amount=20.00"), r(LP, "txn_id=L3|amount=30.00"),
		r(ORD, "txn_id=O1|amount=5.00"),
		r(REV, "txn_id=R1|kind=VOID|orig_txn_id=L3|amount=30.00"),
		r(INV, "invoice_no=00000001|txn_id=L1|amount=10.00"),
		r(INV, "invoice_no=00000001|txn_id=L2|amount=20.00"),
		r(INV, "invoice_no=00000002|txn_id=L1|amount=10.00"),
		r(INV, "invoice_no=00000003|txn_id=L2|amount=25.00"),
		r(INV, "invoice_no=00000004|txn_id=ZZ|amount=1.00"),
		r(INV, "invoice_no=00000005|txn_id=L3|amount=30.00"),
		r(INV, "invoice_no=00000008|txn_id=L3|amount=30.00|status=已作废"),
		r(INV, "invoice_no=ABC|txn_id=O1|amount=5.00"),
		r(INV, "counter_id=C2|invoice_no=00000010|txn_id=L1|amount=10.00|status=VOIDED"),
	), nil)
	sameStrings(t, "invoice findings", findings(res, CodeInvoiceDuplicate, CodeInvoiceOrphan, CodeInvoiceAmountMismatch, CodeInvoiceNotVoided, CodeInvoiceGap), []string{
		"INVOICE_DUPLICATE ERROR C1 invoice L2 ",
		"INVOICE_DUPLICATE ERROR C1 invoice L1 ",
		"INVOICE_AMOUNT_MISMATCH ERROR C1 invoice L2 ",
		"INVOICE_ORPHAN ERROR C1 invoice ZZ ",
		"INVOICE_NOT_VOIDED ERROR C1 invoice L3 ",
		"INVOICE_GAP WARNING C1 invoice  ",
		"INVOICE_GAP WARNING C1 invoice  ",
	})
	var gaps []string
	for _, e := range res.Exceptions {
		if e.Code == CodeInvoiceGap {
			gaps = append(gaps, e.Key)
		}
	}
	sameStrings(t, "gaps", gaps, []string{"IC/00000002", "IC/00000006-00000007"})
}

func TestCompleteness(t *testing.T) {
	t.Run("a feed with no file makes every counter incomplete", func(t *testing.T) {
		d := dayOf(r(LP, "txn_id=L1"), r(LP, "txn_id=L2|counter_id=C2"))
		d.Inputs = d.Inputs[:len(d.Inputs)-1] // no deposit
		d.Missing = []connectors.Missing{{Feed: DEP, Reason: "no file for feed deposit"}}
		res := reconcile(t, d, nil)
		sameStrings(t, "findings", findings(res, CodeFeedMissing), []string{"FEED_MISSING ERROR  deposit  "})
		if res.Complete || len(res.Counters) != 2 || !res.Counters[0].Incomplete || !res.Counters[1].Incomplete {
			t.Errorf("complete=%v counters=%+v", res.Complete, res.Counters)
		}
	})
	t.Run("a file lacking a required column is set aside", func(t *testing.T) {
		d := dayOf(r(ORD, "txn_id=O1"))
		d.Inputs[feed.LocalPayment] = input(LP, "local_payment.csv",
			"biz_date,city,outlet_id,counter_id,txn_id,txn_time,msisdn,amount,pay_method\n"+
				"2026-11-21,TY,O1,C1,L1,2026-11-21 10:00:00,139,10.00,CASH\n")
		res := reconcile(t, d, nil)
		sameStrings(t, "findings", findings(res, CodeFeedMissing, CodeMalformedRow), []string{"FEED_MISSING ERROR  local_payment  "})
		// FEEDS.md: without a line holding every required column there is no header, and
		// every line, the nearest to a header included, is set aside.
		const reason = "FEED_MISSING: file has no header line naming the columns of local_payment (line 1, the nearest, lacks required column(s) account_id)"
		if len(res.Rejects) != 2 || res.Rejects[0].Line != 1 || res.Rejects[1].Line != 2 ||
			res.Rejects[0].Reason != reason || res.Rejects[1].Reason != reason {
			t.Errorf("rejects = %+v", res.Rejects)
		}
		if res.Complete {
			t.Error("complete, want incomplete")
		}
	})
	footers := []struct {
		name, footer string
		rows         []string
		want         []string
	}{
		{"footer agrees", "TOTAL,2,,,,,,,30.00,", []string{"txn_id=L1|amount=10.00", "txn_id=L2|amount=20.00"}, nil},
		{"footer count off", "TOTAL,3,,,,,,,30.00,", []string{"txn_id=L1|amount=10.00", "txn_id=L2|amount=20.00"}, []string{"FEED_TOTAL_MISMATCH ERROR  local_payment  "}},
		{"footer amount off", "合计,2,,,,,,,30.01,", []string{"txn_id=L1|amount=10.00", "txn_id=L2|amount=20.00"}, []string{"FEED_TOTAL_MISMATCH ERROR  local_payment  "}},
		{"amount not checked when a row's amount is bad", "TOTAL,2,,,,,,,99.00,", []string{"txn_id=L1|amount=10.00", "txn_id=L2|amount=x"}, nil},
		{"malformed and wrong-date rows count as read", "TOTAL,2,,,,,,,30.00,", []string{"txn_id=L1|amount=10.00", "txn_id=L2|amount=20.00|biz_date=2026-11-01"}, nil},
	}
	for _, tt := range footers {
		t.Run(tt.name, func(t *testing.T) {
			d := dayOf()
			d.Inputs[feed.LocalPayment] = input(LP, "local_payment.csv", csvOf(LP, tt.rows)+tt.footer+"\n")
			res := reconcile(t, d, nil)
			sameStrings(t, "findings", findings(res, CodeFeedTotalMismatch), tt.want)
			if res.Complete != (len(tt.want) == 0) {
				t.Errorf("complete = %v", res.Complete)
			}
		})
	}
	t.Run("per-counter files: a counter without its file is incomplete alone", func(t *testing.T) {
		d := dayOf(r(ORD, "txn_id=O1"), r(ORD, "txn_id=O2|counter_id=C2"), r(ORD, "txn_id=O3|counter_id=C3"))
		d.Inputs[feed.LocalPayment] = input(LP, "O1/TY_C1_本地缴费日报.csv", csvOf(LP, []string{"txn_id=L1"}))
		d.Inputs[feed.LocalPayment].Counter = "C1"
		d.Inputs = append(d.Inputs, connectors.Input{Feed: LP, Name: "O1/TY_C2_本地缴费日报.csv", Counter: "C2",
			Open: input(LP, "", csvOf(LP, nil)+"合计,0,,,,,,,0.00,\n").Open})
		res := reconcile(t, d, nil)
		sameStrings(t, "findings", findings(res, CodeFeedMissing, CodeFeedTotalMismatch), []string{"FEED_MISSING ERROR C3 local_payment  "})
		var inc []string
		for _, c := range res.Counters {
			if c.Incomplete {
				inc = append(inc, c.Counter)
			}
		}
		sameStrings(t, "incomplete", inc, []string{"C3"})
	})
	t.Run("unreadable xlsx", func(t *testing.T) {
		d := dayOf(r(LP, "txn_id=L1"))
		d.Inputs[feed.Purchase] = connectors.Input{Feed: PUR, Name: "purchase.xlsx", Format: connectors.XLSX,
			Open: input(PUR, "", "this is not a zip").Open}
		res := reconcile(t, d, nil)
		sameStrings(t, "findings", findings(res, CodeFeedMissing), []string{"FEED_MISSING ERROR  purchase  "})
	})
}
