package i18n

// Certified report and hints (issue 14): the one-line "what to do" of every exception code of
// RULES.md, and the names of the cities the feeds give by code. Both are keyed by the code as
// the data spells it (this package imports nothing of settle, so not by engine.Code); a test
// of package report walks engine.Codes and fails on a code without a hint.

// hints are what a clerk does about each exception code, in Chinese and English: one line,
// saying where to look and what settles it (WORKFLOW.md's reasons).
var hints = map[string][2]string{
	"MALFORMED_ROW":             {"核对 BOSS 原始报表中该行的缺失或错误字段；BOSS 更正后重新导出并重跑。", "Check the row's missing or bad field in the BOSS report; have BOSS correct it, re-export and rerun."},
	"WRONG_DATE":                {"确认该笔交易的账务日期；属其他日期的报表应重新导出本日数据并重跑。", "Check the row's business date; if the export holds another day, re-export this day and rerun."},
	"DUPLICATE_TXN":             {"核对两笔同号流水：若为重复导出请重新导出；若确为两笔业务请报 BOSS 更正流水号。", "Compare the two rows with one serial: re-export if the export repeated it; if both are real, have BOSS correct the serial."},
	"DUPLICATE_INPUT":           {"同一份报表提供了两次，删除多余的一份（或重新导出）后重跑。", "The same export was supplied twice: remove the extra copy (or re-export) and rerun."},
	"COUNTER_KEY_CONFLICT":      {"该行的营业厅或地市与工号所属不符，请 BOSS 核对工号归属并更正。", "The row's outlet or city is not its counter's: have BOSS check the counter's assignment and correct it."},
	"DEPOSIT_SHORT":             {"查明短款原因：补足差额并记下解款单号，或确认次日补解；属 BOSS 数据差错的报工单。", "Find the shortfall: make it up and note the slip number, or confirm it was banked the next day; a BOSS error needs a ticket."},
	"DEPOSIT_OVER":              {"查明长款原因，长款按规定上缴并记下解款单号。", "Find the overage and turn it in as the rules say, noting the slip number."},
	"SUMMARY_MISMATCH":          {"交费日报与明细不符：核对两份报表是否同一时点导出，重新导出后重跑；仍不符则报 BOSS。", "The payment summary disagrees with the detail: check both were exported at the same time, re-export and rerun; if it persists, report it to BOSS."},
	"PURCHASE_NO_ORDER":         {"找到该购机对应的合约购机订单；漏录订单的补录，BOSS 数据差错的报工单。", "Find the contract order of this purchase; enter a missing order, or raise a ticket for a BOSS error."},
	"ORDER_NO_PURCHASE":         {"核对该合约订单是否已实际出机；未出机的撤单，漏录的补录购机记录。", "Check whether the handset of this contract order was handed over: cancel the order if not, else enter the purchase."},
	"IMEI_DUPLICATE":            {"同一串号售出两次：核对手机实物与两笔销售，错误的一笔冲正。", "One IMEI sold twice: check the handset and both sales, and void the wrong one."},
	"REVERSAL_ORPHAN":           {"找不到原交易：核对原流水号、原账务日期和原业务类型，附纸质审批单或投诉单号说明。", "The original cannot be found: check the original serial, date and feed; explain with the paper approval or complaint ticket number."},
	"REVERSAL_NO_HISTORY":       {"原交易日没有可查的运行记录：如需核对，请先补跑原交易日。", "No stored run of the original's day: run that day first if the reversal must be checked."},
	"VOID_NOT_SAME_DAY":         {"冲正只能用于当日交易，跨日应走退费流程；附审批单号说明。", "A void may only cancel a transaction of the same day; another day's needs a refund. Explain with the approval form number."},
	"VOID_PARTIAL":              {"冲正金额须与原交易一致，核对后按实际金额更正。", "A void must cancel the original's whole amount: check it and correct the amount."},
	"REVERSAL_EXCEEDS_ORIGINAL": {"累计冲退超过原交易金额：核对各笔冲退，多退的追回或报 BOSS 更正。", "Reversals add up to more than the original: check each one and recover the excess or have BOSS correct it."},
	"REVERSAL_METHOD_MISMATCH":  {"冲退的支付方式与原交易不同，确认退款去向并留存凭证。", "The reversal was paid by another method than the original: confirm where the money went and keep the voucher."},
	"REFUND_NOT_APPROVED":       {"大额退费须他人审批：附纸质审批单号或客户投诉单号说明。", "A refund over 100.00 needs another clerk's approval: give the paper approval form or complaint ticket number."},
	"REMOTE_PENDING":            {"异地缴费待清算，留意次日清算结果，无需现在处理。", "The remote payment awaits clearing: watch the next day's result; nothing to do now."},
	"REMOTE_REJECTED":           {"清算失败的异地缴费须给客户退费或重新缴费，记下退费单号。", "Clearing rejected the remote payment: refund the customer or take the payment again, noting the refund number."},
	"CARD_QTY_MISMATCH":         {"核对商务卡实物的起止卡号与数量，按实际更正。", "Check the cards' first and last serials and the quantity against the cards, and correct them."},
	"CARD_AMOUNT_MISMATCH":      {"商务卡金额应为面值×数量，核对收款并更正。", "A card sale's amount must be face value × quantity: check what was taken and correct it."},
	"CARD_SERIAL_OVERLAP":       {"卡号段与其他销售重叠：核对实物卡号，确认哪一笔登记有误。", "The serial range overlaps another sale's: check the cards and find which sale was entered wrong."},
	"INVOICE_DUPLICATE":         {"同一发票号出现两次：核对发票存根，作废重复开具的一张。", "One invoice number appears twice: check the stubs and void the repeated one."},
	"INVOICE_ORPHAN":            {"发票找不到当日交易：核对流水号，错开的发票作废。", "The invoice has no transaction of the day: check the serial and void an invoice issued by mistake."},
	"INVOICE_AMOUNT_MISMATCH":   {"发票金额与交易不符：作废后按交易金额重开。", "The invoice amount differs from the transaction: void it and issue one for the right amount."},
	"INVOICE_NOT_VOIDED":        {"交易已冲正，对应发票须作废（收回原发票）。", "The transaction was voided: void its invoice (take the original back)."},
	"INVOICE_GAP":               {"发票号码不连续：查找缺号发票（作废、遗失或漏登），并登记。", "Invoice numbers skip: find the missing invoices (voided, lost or not entered) and record them."},
	"FEED_MISSING":              {"报表缺失，数据不完整：检查报表文件或接口后重新导出并重跑，不得据此签字。", "A feed is missing and the figures are incomplete: check the files or the API, re-export and rerun; do not sign these figures."},
	"FEED_TOTAL_MISMATCH":       {"报表合计与明细不符（导出不完整）：重新导出该报表并重跑。", "The feed's footer disagrees with its rows (a cut-short export): re-export the feed and rerun."},
}

// Hint is the one-line "what to do" about exception code in g; empty for a code it does not know.
func Hint(g Lang, code string) string {
	h, ok := hints[code]
	if !ok {
		return ""
	}
	return h[g]
}

// regions are the cities of Shanxi, the province the feeds and fixtures use, by the code the
// feeds' city column carries (TY for Taiyuan): Chinese name and pinyin.
var regions = map[string][2]string{
	"TY": {"太原", "Taiyuan"}, "DT": {"大同", "Datong"}, "YQ": {"阳泉", "Yangquan"},
	"CZ": {"长治", "Changzhi"}, "JC": {"晋城", "Jincheng"}, "SZ": {"朔州", "Shuozhou"},
	"JZ": {"晋中", "Jinzhong"}, "YC": {"运城", "Yuncheng"}, "XZ": {"忻州", "Xinzhou"},
	"LF": {"临汾", "Linfen"}, "LL": {"吕梁", "Lüliang"},
}

// Region is the name of the city whose code is code, in g; an unknown code is itself.
func Region(g Lang, code string) string {
	r, ok := regions[code]
	if !ok {
		return code
	}
	return r[g]
}

// RegionCodes lists the codes Region knows, for the PDF font and tests; in no fixed order
// callers rely on.
func RegionCodes() []string {
	out := make([]string, 0, len(regions))
	for c := range regions {
		out = append(out, c)
	}
	return out
}
