package engine

import "testing"

// TestCrossCheckSkipsColumnsWithProblems: a rule about columns is not applied when one of
// them is already wrong, and a problem in another column does not stop it.
func TestCrossCheckSkipsColumnsWithProblems(t *testing.T) {
	for _, tt := range []struct {
		name string
		row  row
		want string
	}{
		{"serial_to unreadable: no length check", r(CRD, "txn_id=K1|serial_from=999|serial_to=1x00|quantity=2"),
			"MALFORMED_ROW C1 card_sale | card_sale.csv:2 | serial_to \"1x00\" is not a string of 1-18 digits"},
		{"serials of unequal length", r(CRD, "txn_id=K1|serial_from=999|serial_to=1000|quantity=2"),
			"MALFORMED_ROW C1 card_sale | card_sale.csv:2 | serial_from \"999\" and serial_to \"1000\" differ in length"},
		{"face_value unreadable: quantity still checked", r(CRD, "txn_id=K1|face_value=x|quantity=0"),
			"MALFORMED_ROW C1 card_sale | card_sale.csv:2 | face_value \"x\" is not an amount in yuan; quantity is 0"},
		{"amount unreadable: no zero check", r(LP, "txn_id=L1|amount=x"),
			"MALFORMED_ROW C1 local_payment | local_payment.csv:2 | amount \"x\" is not an amount in yuan"},
		{"msisdn empty: amount still checked", r(LP, "txn_id=L1|msisdn=|amount=0"),
			"MALFORMED_ROW C1 local_payment | local_payment.csv:2 | msisdn is empty; amount is 0"},
		{"orig_date unreadable: no order check", r(REV, "txn_id=R1|orig_date=x"),
			"MALFORMED_ROW C1 reversal | reversal.csv:2 | orig_date \"x\" is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)"},
		{"biz_date unreadable: no order check", r(REV, "txn_id=R1|biz_date=x|orig_date=2026-11-22"),
			"MALFORMED_ROW C1 reversal | reversal.csv:2 | biz_date \"x\" is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := reconcile(t, dayOf(tt.row), nil)
			sameStrings(t, "malformed rows", excOf(res, CodeMalformedRow), []string{tt.want})
		})
	}
}
