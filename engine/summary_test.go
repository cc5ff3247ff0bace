package engine

import "testing"

// TestSummaryKeysMadeWhileCounted: a counter's detail rows of every pay method, twice over,
// are all counted when its pairs are made among the detail rows (without summary rows, after
// another counter's), the pairs' list growing while the counter's rows are read.
func TestSummaryKeysMadeWhileCounted(t *testing.T) {
	pays := []string{"CASH", "POS", "WECHAT", "ALIPAY", "CHEQUE"}
	var rows []row
	for _, p := range pays {
		rows = append(rows, r(SUM, "counter_id=C2|category=LOCAL|pay_method="+p+"|txn_count=0|amount=0.00"))
	}
	for i := range 2 {
		for j, p := range pays {
			rows = append(rows, r(LP, "txn_id=L"+string(rune('a'+i))+string(rune('a'+j))+"|amount=10.00|pay_method="+p))
		}
	}
	res := reconcile(t, dayOf(rows...), nil)
	sameStrings(t, "summary findings", findings(res, CodeSummaryMismatch), []string{
		"SUMMARY_MISMATCH ERROR C1 payment_summary  -20.00",
		"SUMMARY_MISMATCH ERROR C1 payment_summary  -20.00",
		"SUMMARY_MISMATCH ERROR C1 payment_summary  -20.00",
		"SUMMARY_MISMATCH ERROR C1 payment_summary  -20.00",
		"SUMMARY_MISMATCH ERROR C1 payment_summary  -20.00",
	})
}
