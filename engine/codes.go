package engine

// Severity of an exception (RULES.md): an ERROR must be explained before sign-off.
const (
	SevError   = "ERROR"
	SevWarning = "WARNING"
)

// Code describes one exception code of RULES.md.
type Code struct {
	Code     string
	Severity string // fixed severity; DUPLICATE_TXN varies per row (see RULES.md §1)
	Zh, En   string // descriptions for reports
}

// Codes lists every exception code of RULES.md in the order the rules are written.
var Codes = []Code{
	{"MALFORMED_ROW", SevError, "行格式错误：必填字段缺失或无法解析", "Malformed row: a required field is missing or cannot be parsed"},
	{"WRONG_DATE", SevError, "账务日期不是本次对账日期", "Business date is not the run's date"},
	{"DUPLICATE_TXN", SevError, "流水号重复", "Duplicate transaction serial"},
	{"DUPLICATE_INPUT", SevError, "报表重复提供（与在前的一份逐字节相同），未读取", "Input repeats an earlier input of the feed byte for byte; not read"},
	{"COUNTER_KEY_CONFLICT", SevError, "行的营业厅或地市与工号所属不符，按工号所属计入", "Row carries another outlet or city than its counter's; counted under the counter's"},
	{"DEPOSIT_SHORT", SevError, "短款：解款少于应解金额", "Shortfall: deposited less than expected"},
	{"DEPOSIT_OVER", SevWarning, "长款：解款多于应解金额", "Overage: deposited more than expected"},
	{"SUMMARY_MISMATCH", SevError, "交费日报与明细不符", "Payment summary disagrees with the detail"},
	{"PURCHASE_NO_ORDER", SevError, "购机无对应合约购机订单", "Handset purchase without a contract order"},
	{"ORDER_NO_PURCHASE", SevError, "合约购机订单无购机记录", "Contract order without a handset purchase"},
	{"IMEI_DUPLICATE", SevError, "串号重复销售", "IMEI sold twice"},
	{"REVERSAL_ORPHAN", SevError, "冲退找不到原交易", "Reversal whose original cannot be found"},
	{"REVERSAL_NO_HISTORY", SevWarning, "冲退原交易日无历史数据可查", "Reversal of a day with no stored run to check"},
	{"VOID_NOT_SAME_DAY", SevError, "冲正不是当日交易", "Void of another day's transaction"},
	{"VOID_PARTIAL", SevError, "冲正金额与原交易不符", "Void amount differs from the original"},
	{"REVERSAL_EXCEEDS_ORIGINAL", SevError, "累计冲退金额超过原交易", "Reversals exceed the original amount"},
	{"REVERSAL_METHOD_MISMATCH", SevWarning, "冲退支付方式与原交易不同", "Reversal paid by another method than the original"},
	{"REFUND_NOT_APPROVED", SevError, "大额退费未经他人审批", "Refund over 100.00 without another clerk's approval"},
	{"REMOTE_PENDING", SevWarning, "异地缴费待清算", "Remote payment awaiting clearing"},
	{"REMOTE_REJECTED", SevError, "异地缴费清算失败且未退费", "Remote payment rejected by clearing and not refunded"},
	{"CARD_QTY_MISMATCH", SevError, "商务卡数量与卡号段不符", "Card quantity disagrees with the serial range"},
	{"CARD_AMOUNT_MISMATCH", SevError, "商务卡金额不等于面值×数量", "Card amount is not face value × quantity"},
	{"CARD_SERIAL_OVERLAP", SevError, "商务卡号段重叠", "Card serial ranges overlap"},
	{"INVOICE_DUPLICATE", SevError, "发票重复", "Duplicate invoice"},
	{"INVOICE_ORPHAN", SevError, "发票无对应交易", "Invoice for no transaction of the day"},
	{"INVOICE_AMOUNT_MISMATCH", SevError, "发票金额与交易不符", "Invoice amount differs from the transaction"},
	{"INVOICE_NOT_VOIDED", SevError, "交易已冲正但发票未作废", "Transaction voided but its invoice not"},
	{"INVOICE_GAP", SevWarning, "发票号码不连续", "Gap in invoice numbers"},
	{"FEED_MISSING", SevError, "报表缺失", "Feed missing"},
	{"FEED_TOTAL_MISMATCH", SevError, "报表合计与明细不符（报表不完整）", "Feed footer disagrees with its rows (truncated export)"},
}

// codeIndex is the place of every code in Codes.
var codeIndex = func() map[string]int {
	m := make(map[string]int, len(Codes))
	for i, c := range Codes {
		m[c.Code] = i
	}
	return m
}()

// CodeInfo returns the description of code, and false for an unknown code.
func CodeInfo(code string) (Code, bool) {
	i, ok := codeIndex[code]
	if !ok {
		return Code{}, false
	}
	return Codes[i], true
}

// severity is the fixed severity of a code of Codes ("" for an unknown one).
func severity(code string) string {
	c, _ := CodeInfo(code)
	return c.Severity
}
