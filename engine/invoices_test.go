package engine

import "testing"

// TestInvoicesOrphanIssuedTwice: a txn_id no revenue row has, invoiced twice, is an orphan
// once and a second invoice once (the issued count of a txn_id without a revenue row is
// kept apart from those of revenue rows); a voided invoice of it counts for neither.
func TestInvoicesOrphanIssuedTwice(t *testing.T) {
	res := reconcile(t, dayOf(
		r(LP, "txn_id=L1|amount=10.00"),
		r(INV, "invoice_no=00000001|txn_id=ZZ|amount=1.00|status=VOIDED"),
		r(INV, "invoice_no=00000002|txn_id=ZZ|amount=1.00"),
		r(INV, "invoice_no=00000003|txn_id=ZZ|amount=1.00"),
		r(INV, "invoice_no=00000004|txn_id=L1|amount=10.00"),
		r(INV, "counter_id=C2|invoice_no=00000005|txn_id=L1|amount=10.00"),
	), nil)
	sameStrings(t, "invoice findings", findings(res, CodeInvoiceDuplicate, CodeInvoiceOrphan), []string{
		"INVOICE_DUPLICATE ERROR C1 invoice ZZ ",
		"INVOICE_DUPLICATE ERROR C2 invoice L1 ",
		"INVOICE_ORPHAN ERROR C1 invoice ZZ ",
		"INVOICE_ORPHAN ERROR C1 invoice ZZ ",
	})
}
