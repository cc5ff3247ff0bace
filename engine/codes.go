package engine

// Severity is the severity of an exception (RULES.md): an ERROR must be explained before
// sign-off.
type Severity string

// The severities of RULES.md.
const (
	SevError   Severity = "ERROR"
	SevWarning Severity = "WARNING"
)

// IsError reports whether s is SevError (for templates, which cannot name the constant).
func (s Severity) IsError() bool { return s == SevError }

// Code is an exception code of RULES.md. Every code is one of the constants below; the
// engine never spells a code as a string literal, so a typo fails to compile.
type Code string

// The exception codes of RULES.md, in the order the rules are written.
const (
	CodeMalformedRow            Code = "MALFORMED_ROW"
	CodeWrongDate               Code = "WRONG_DATE"
	CodeDuplicateTxn            Code = "DUPLICATE_TXN"
	CodeDuplicateInput          Code = "DUPLICATE_INPUT"
	CodeCounterKeyConflict      Code = "COUNTER_KEY_CONFLICT"
	CodeDepositShort            Code = "DEPOSIT_SHORT"
	CodeDepositOver             Code = "DEPOSIT_OVER"
	CodeSummaryMismatch         Code = "SUMMARY_MISMATCH"
	CodePurchaseNoOrder         Code = "PURCHASE_NO_ORDER"
	CodeOrderNoPurchase         Code = "ORDER_NO_PURCHASE"
	CodeIMEIDuplicate           Code = "IMEI_DUPLICATE"
	CodeReversalOrphan          Code = "REVERSAL_ORPHAN"
	CodeReversalNoHistory       Code = "REVERSAL_NO_HISTORY"
	CodeVoidNotSameDay          Code = "VOID_NOT_SAME_DAY"
	CodeVoidPartial             Code = "VOID_PARTIAL"
	CodeReversalExceedsOriginal Code = "REVERSAL_EXCEEDS_ORIGINAL"
	CodeReversalMethodMismatch  Code = "REVERSAL_METHOD_MISMATCH"
	CodeRefundNotApproved       Code = "REFUND_NOT_APPROVED"
	CodeRemotePending           Code = "REMOTE_PENDING"
	CodeRemoteRejected          Code = "REMOTE_REJECTED"
	CodeCardQtyMismatch         Code = "CARD_QTY_MISMATCH"
	CodeCardAmountMismatch      Code = "CARD_AMOUNT_MISMATCH"
	CodeCardSerialOverlap       Code = "CARD_SERIAL_OVERLAP"
	CodeInvoiceDuplicate        Code = "INVOICE_DUPLICATE"
	CodeInvoiceOrphan           Code = "INVOICE_ORPHAN"
	CodeInvoiceAmountMismatch   Code = "INVOICE_AMOUNT_MISMATCH"
	CodeInvoiceNotVoided        Code = "INVOICE_NOT_VOIDED"
	CodeInvoiceGap              Code = "INVOICE_GAP"
	CodeFeedMissing             Code = "FEED_MISSING"
	CodeFeedTotalMismatch       Code = "FEED_TOTAL_MISMATCH"
)

// CodeDesc describes one exception code of RULES.md.
type CodeDesc struct {
	Code     Code
	Severity Severity // fixed severity; DUPLICATE_TXN varies per row (see RULES.md §1)
	Zh, En   string   // descriptions for reports
}

// Codes lists every exception code of RULES.md in the order the rules are written.
var Codes = []CodeDesc{
	{CodeMalformedRow, SevError, "行格式错误：必填字段缺失或无法解析", "Malformed row: a required field is missing or cannot be parsed"},
	{CodeWrongDate, SevError, "账务日期不是本次对账日期", "Business date is not the run's date"},
	{CodeDuplicateTxn, SevError, "流水号重复", "Duplicate transaction serial"},
	{CodeDuplicateInput, SevError, "报表重复提供（与在前的一份逐字节相同），未读取", "Input repeats an earlier input of the feed byte for byte; not read"},
	{CodeCounterKeyConflict, SevError, "行的营业厅或地市与工号所属不符，按工号所属计入", "Row carries another outlet or city than its counter's; counted under the counter's"},
	{CodeDepositShort, SevError, "短款：解款少于应解金额", "Shortfall: deposited less than expected"},
	{CodeDepositOver, SevWarning, "长款：解款多于应解金额", "Overage: deposited more than expected"},
	{CodeSummaryMismatch, SevError, "交费日报与明细不符", "Payment summary disagrees with the detail"},
	{CodePurchaseNoOrder, SevError, "购机无对应合约购机订单", "Handset purchase without a contract order"},
	{CodeOrderNoPurchase, SevError, "合约购机订单无购机记录", "Contract order without a handset purchase"},
	{CodeIMEIDuplicate, SevError, "串号重复销售", "IMEI sold twice"},
	{CodeReversalOrphan, SevError, "冲退找不到原交易", "Reversal whose original cannot be found"},
	{CodeReversalNoHistory, SevWarning, "冲退原交易日无历史数据可查", "Reversal of a day with no stored run to check"},
	{CodeVoidNotSameDay, SevError, "冲正不是当日交易", "Void of another day's transaction"},
	{CodeVoidPartial, SevError, "冲正金额与原交易不符", "Void amount differs from the original"},
	{CodeReversalExceedsOriginal, SevError, "累计冲退金额超过原交易", "Reversals exceed the original amount"},
	{CodeReversalMethodMismatch, SevWarning, "冲退支付方式与原交易不同", "Reversal paid by another method than the original"},
	{CodeRefundNotApproved, SevError, "大额退费未经他人审批", "Refund over 100.00 without another clerk's approval"},
	{CodeRemotePending, SevWarning, "异地缴费待清算", "Remote payment awaiting clearing"},
	{CodeRemoteRejected, SevError, "异地缴费清算失败且未退费", "Remote payment rejected by clearing and not refunded"},
	{CodeCardQtyMismatch, SevError, "商务卡数量与卡号段不符", "Card quantity disagrees with the serial range"},
	{CodeCardAmountMismatch, SevError, "商务卡金额不等于面值×数量", "Card amount is not face value × quantity"},
	{CodeCardSerialOverlap, SevError, "商务卡号段重叠", "Card serial ranges overlap"},
	{CodeInvoiceDuplicate, SevError, "发票重复", "Duplicate invoice"},
	{CodeInvoiceOrphan, SevError, "发票无对应交易", "Invoice for no transaction of the day"},
	{CodeInvoiceAmountMismatch, SevError, "发票金额与交易不符", "Invoice amount differs from the transaction"},
	{CodeInvoiceNotVoided, SevError, "交易已冲正但发票未作废", "Transaction voided but its invoice not"},
	{CodeInvoiceGap, SevWarning, "发票号码不连续", "Gap in invoice numbers"},
	{CodeFeedMissing, SevError, "报表缺失", "Feed missing"},
	{CodeFeedTotalMismatch, SevError, "报表合计与明细不符（报表不完整）", "Feed footer disagrees with its rows (truncated export)"},
}

// codeIndex is the place of every code in Codes.
var codeIndex = func() map[Code]int {
	m := make(map[Code]int, len(Codes))
	for i, c := range Codes {
		m[c.Code] = i
	}
	return m
}()

// CodeInfo returns the description of code, and false for a code that is not in Codes (a
// string read back from a stored run, converted with Code(s)).
func CodeInfo(code Code) (CodeDesc, bool) {
	i, ok := codeIndex[code]
	if !ok {
		return CodeDesc{}, false
	}
	return Codes[i], true
}

// severity is the fixed severity of code. The engine passes only the constants above, all of
// them in Codes (TestCodes), so an unknown code is a programmer error.
func severity(code Code) Severity {
	c, ok := CodeInfo(code)
	if !ok {
		panic("engine: exception code " + string(code) + " is not in Codes")
	}
	return c.Severity
}
