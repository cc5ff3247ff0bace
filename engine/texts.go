package engine

import (
	"fmt"
	"strings"

	"settle/connectors"
	"settle/feed"
)

// The texts of the details and reject reasons the engine writes, in Chinese (the default)
// and English (Config.Lang "en"). Codes, amounts, ids, dates and sources inside a detail
// are the same in both languages; the words around them, the names of columns (金额 for
// amount) and of feeds (业务办理日报 for order) follow the language. The one reason kept in
// English whatever the language is FEEDS.md's literal `repeated header`.

// text is the key of one detail text: a closed set, walked by TestTexts.
type text int

const (
	// Reading an input (FEED_MISSING, FEED_TOTAL_MISMATCH).
	tCannotRead       text = iota // input, error
	tInputTooLarge                // input, limit
	tRawUnavailable               // error: the raw column of a reject whose line could not be read again
	tWrongFeed                    // wrong feed, this feed, header source
	tNoHeaderNearest              // feed, line, missing columns
	tNoHeader                     // feed
	tSetAside                     // input, reason, lines
	tRejectFile                   // reason: the reject reason of a line of such an input
	tFooterCountNaN               // count text
	tFooterCount                  // count, read
	tFooterAmountNaN              // amount text
	tFooterAmountOver             // amount, max
	tFooterAmount                 // amount, sum
	tInputProblems                // input, problems

	// A row's fields (MALFORMED_ROW, WRONG_DATE): column, quoted text[, ...].
	tFieldEmpty
	tFieldBlank // a cell of spaces only
	tFieldNotDate
	tFieldNotTime
	tFieldNotWhole
	tFieldNotIdent
	tFieldNotDigits
	tFieldNegative
	tFieldDecimals
	tFieldNotMoney
	tFieldTooLarge
	tFieldOther // column, text, error: an error the table has no text for
	tFieldNotOneOf
	tFieldZero
	tFieldAboveCeiling
	tPayEmptyWithAmount
	tAfter
	tSerialLength
	tWrongDate

	// Whose row it is, duplicates.
	tDuplicateInput
	tForeignRow
	tKeyConflict
	tDuplicateTxn  // txn, kept feed, kept source, tIdentical or tDiffers
	tDuplicateSlip // slip, kept source, tIdentical or tDiffers
	tIdentical
	tDiffers

	// Completeness (FEED_MISSING of the connectors and of the layout).
	tNoCounterFile  // feed, counter
	tNoFeedFile     // feed, feed's Chinese name, folder
	tPullFailed     // path, error, tries
	tPullFailedLate // path, error, tries, deadline
	tPullNotDone    // path, deadline
	tOneTry
	tTries

	// Settlement.
	tDeposit // pay, expected, deposited, variance
	tSummary // category, pay, count, amount, count, amount

	// Cards and invoices.
	tSerialBelow
	tQtySerials
	tCardAmount
	tBeyondHolding
	tAndMore
	tSerialOverlap
	tInvoiceOn
	tInvoiceSecond
	tInvoiceOrphan
	tInvoiceAmount
	tInvoiceNotVoided
	tInvoiceGap

	// Purchases, reversals, remote payments.
	tPurchaseNoOrder
	tOrderNoPurchase
	tIMEISold
	tVoidOtherDay
	tRefundNoApprover
	tRefundSelfApproved
	tOriginal // feed, txn, date: "the original" of a reversal
	tOrphanToday
	tTooOld
	tNoStoredRun
	tOrphanStored
	tVoidPartial
	tMethodMismatch
	tReversalsReach
	tClearingPending
	tClearingRejected

	nTexts // the number of texts; not a text
)

// texts holds every text in both languages: [zh, en]. Both take the same arguments; a
// language may reorder them with explicit indexes (%[2]s).
var texts = [nTexts][2]string{
	tCannotRead:       {"无法读取 %s：%v", "cannot read %s: %v"},
	tInputTooLarge:    {"无法读取 %s：超过 %d 字节", "cannot read %s: larger than %d bytes"},
	tRawUnavailable:   {"（无法取得：%v）", "(not available: %v)"},
	tWrongFeed:        {"是%[1]s，不是%[2]s：其表头（%[3]s）含有%[1]s的全部列", "is the %[1]s report, not %[2]s: its header (%[3]s) holds every column of %[1]s"},
	tNoHeaderNearest:  {"没有列出%s各列的表头行（最接近的第 %d 行缺少必需列 %s）", "has no header line naming the columns of %s (line %d, the nearest, lacks required column(s) %s)"},
	tNoHeader:         {"没有列出%s各列的表头行", "has no header line naming the columns of %s"},
	tSetAside:         {"%s %s；其 %d 行均已剔除", "%s %s; its %d line(s) are set aside"},
	tRejectFile:       {"文件%s", "file %s"},
	tFooterCountNaN:   {"合计行的笔数 %s 不是数字", "footer row count %s is not a number"},
	tFooterCount:      {"合计行为 %d 笔，读到 %d 笔", "footer says %d row(s), %d read"},
	tFooterAmountNaN:  {"合计行的金额 %s 不是金额", "footer amount %s is not an amount"},
	tFooterAmountOver: {"合计行金额 %s，各行合计超过 %s", "footer amount %s, rows add up to more than %s"},
	tFooterAmount:     {"合计行金额 %s，各行合计 %s", "footer amount %s, rows add up to %s"},
	tInputProblems:    {"%s：%s", "%s: %s"},

	tFieldEmpty:         {"%s为空", "%s is empty"},
	tFieldBlank:         {"%s %s 为空", "%s %s is empty"},
	tFieldNotDate:       {"%s %s 不是日期（YYYY-MM-DD、YYYY/MM/DD 或 YYYYMMDD）", "%s %s is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)"},
	tFieldNotTime:       {"%s %s 不是时间（YYYY-MM-DD HH:MM:SS）", "%s %s is not a time (YYYY-MM-DD HH:MM:SS)"},
	tFieldNotWhole:      {"%s %s 不是整数", "%s %s is not a whole number"},
	tFieldNotIdent:      {"%s %s 不是由 1-32 个字母、数字、'-' 或 '_' 组成的编码", "%s %s is not an id of 1-32 letters, digits, '-' or '_'"},
	tFieldNotDigits:     {"%s %s 不是 1-18 位数字", "%s %s is not a string of 1-18 digits"},
	tFieldNegative:      {"%s %s 为负数", "%s %s is negative"},
	tFieldDecimals:      {"%s %s 超过两位小数", "%s %s has more than two decimals"},
	tFieldNotMoney:      {"%s %s 不是以元为单位的金额", "%s %s is not an amount in yuan"},
	tFieldTooLarge:      {"%s %s 过大", "%s %s is too large"},
	tFieldOther:         {"%s %s %v", "%s %s %v"},
	tFieldNotOneOf:      {"%s %s 不是以下之一：%s", "%s %s is not one of %s"},
	tFieldZero:          {"%s为 0", "%s is 0"},
	tFieldAboveCeiling:  {"%s %s 超过上限 %s", "%s %s is above the ceiling %s"},
	tPayEmptyWithAmount: {"订单有金额，%s却为空", "%s is empty on an order with an amount"},
	tAfter:              {"%s晚于%s", "%s is after %s"},
	tSerialLength:       {"%s %s 与%s %s 位数不同", "%s %s and %s %s differ in length"},
	tWrongDate:          {"%s %s 不是本次对账日期 %s", "%s %s is not the run's date %s"},

	tDuplicateInput: {"与同一报表在前的 %s 逐字节相同，未读取", "byte-identical to %s, an earlier input of the feed; not read"},
	tForeignRow:     {"工号 %s 的行出现在工号 %s 的报表中", "row of counter %s in the input of counter %s"},
	tKeyConflict: {"该行的地市/营业厅为 %[1]s/%[2]s，工号 %[3]s 属于 %[4]s/%[5]s；按 %[4]s/%[5]s 计入",
		"row carries city/outlet %[1]s/%[2]s, counter %[3]s belongs to %[4]s/%[5]s; counted under %[4]s/%[5]s"},
	tDuplicateTxn:  {"流水号 %[1]s 已出现；此行与保留的行（%[2]s %[3]s）%[4]s", "txn_id %[1]s already seen; this row %[4]s the one kept (%[2]s %[3]s)"},
	tDuplicateSlip: {"解款单号 %[1]s 已出现在本工号的解款中；此行与保留的行（%[2]s）%[3]s", "slip_no %[1]s already seen on a deposit of the counter; this row %[3]s the one kept (%[2]s)"},
	tIdentical:     {"相同", "is identical to"},
	tDiffers:       {"不同", "differs from"},

	tNoCounterFile:  {"缺少工号 %[2]s 的%[1]s文件（该报表按工号分文件）", "no %[1]s file for counter %[2]s (the feed is laid out one file per counter)"},
	tNoFeedFile:     {"%[3]q 下没有报表 %[1]s（%[2]s）的文件", "no file for feed %[1]s (%[2]s) under %[3]q"},
	tPullFailed:     {"GET %s：%v（%s）", "GET %s: %v (%s)"},
	tPullFailedLate: {"GET %s：%v（%s；随后已过 %v 的截止时限）", "GET %s: %v (%s; then the deadline of %v passed)"},
	tPullNotDone:    {"GET %s：截止时限 %v 前未能拉取", "GET %s: not pulled before the deadline of %v"},
	tOneTry:         {"尝试 1 次", "1 try"},
	tTries:          {"尝试 %d 次", "%d tries"},

	tDeposit: {"%s：应解 %s，实解 %s，长短款 %s", "%s: expected %s, deposited %s, variance %s"},
	tSummary: {"%s/%s：交费日报 %d 笔 %s，明细 %d 笔 %s", "%s/%s: summary %d txn %s, detail %d txn %s"},

	tSerialBelow:      {"终止卡号 %s 小于起始卡号 %s", "serial_to %s is below serial_from %s"},
	tQtySerials:       {"数量 %d，卡号 %s-%s 共 %d 张", "quantity %d, serials %s-%s hold %d"},
	tCardAmount:       {"金额 %s，面值 %s × %d = %s", "amount %s, face value %s × %d = %s"},
	tBeyondHolding:    {"超出可表示的范围", "more than can be held"},
	tAndMore:          {"另有 %d 笔", "and %d more"},
	tSerialOverlap:    {"卡号 %s-%s 与 %s 重叠", "serials %s-%s overlap %s"},
	tInvoiceOn:        {"发票 %s/%s 已出现在 %s", "invoice %s/%s already on %s"},
	tInvoiceSecond:    {"流水 %s 的第二张已开具（ISSUED）发票", "second ISSUED invoice for txn %s"},
	tInvoiceOrphan:    {"流水号 %s 不是当日有效的营收行", "txn %s is no valid revenue row of the day"},
	tInvoiceAmount:    {"发票金额 %s，%s %s 为 %s", "invoice %s, %s %s is %s"},
	tInvoiceNotVoided: {"%s %s 已于当日作废；发票 %s/%s 仍为已开具（ISSUED）", "%s %s was voided today; invoice %s/%s is still ISSUED"},
	tInvoiceGap:       {"发票代码 %s：缺 %d 个号码：%s", "invoice code %s: %d number(s) missing: %s"},

	tPurchaseNoOrder:    {"订单号 %s 不是当日任何合约（CONTRACT）订单", "order_id %s matches no CONTRACT order of the day"},
	tOrderNoPurchase:    {"合约（CONTRACT）订单 %s 没有购机记录", "CONTRACT order %s has no handset purchase"},
	tIMEISold:           {"串号 %s 已售出：%s（%s）", "IMEI %s already sold on %s (%s)"},
	tVoidOtherDay:       {"作废 %s，其账务日期为 %s", "VOID of %s dated %s"},
	tRefundNoApprover:   {"退款 %s，无审批人", "refund of %s with no approver"},
	tRefundSelfApproved: {"退款 %s，由经办人本人工号 %s 审批", "refund of %s with approved by the clerk's own id %s"},
	tOriginal:           {"%[3]s 的%[1]s %[2]s", "%[1]s %[2]s of %[3]s"},
	tOrphanToday:        {"原交易（%s）不在当日的有效行中", "original %s not found among today's valid rows"},
	tTooOld:             {"原交易（%s）已过 %d 天，超出 %d 天的回溯期", "original %s is %d days old, beyond the %d-day look-back"},
	tNoStoredRun:        {"没有 %s 的已存运行，无法查找 %s", "no stored run of %s to find %s"},
	tOrphanStored:       {"原交易（%s）不在该日的已存运行中", "original %s not found in the stored run of that date"},
	tVoidPartial:        {"作废 %s 金额 %s，原交易 %s", "VOID of %s for %s, original %s"},
	tMethodMismatch:     {"冲退以 %[1]s 支付，原交易 %[2]s 以 %[3]s 支付", "reversal paid by %[1]s, original %[2]s by %[3]s"},
	tReversalsReach:     {"%s 的冲退累计 %s，原交易 %s", "reversals of %s reach %s, original %s"},
	tClearingPending:    {"清算待定", "clearing pending"},
	tClearingRejected:   {"清算被拒；当日已退 %s（原 %s）", "clearing rejected; %s of %s refunded today"},
}

// lang is the language of the details: langZh (the default) or langEn.
type lang int

const (
	langZh lang = iota
	langEn
)

// langOf maps Config.Lang to a lang; Validate has checked it.
func langOf(s string) lang {
	if s == "en" {
		return langEn
	}
	return langZh
}

// code is the language's Config.Lang value.
func (g lang) code() string {
	if g == langEn {
		return "en"
	}
	return "zh"
}

// f formats text k in the language.
func (g lang) f(k text, args ...any) string {
	return fmt.Sprintf(texts[k][g], args...)
}

// s is text k, which takes no arguments.
func (g lang) s(k text) string { return texts[k][g] }

// col names a column of a feed: its Chinese header name in Chinese, else its name.
func (g lang) col(c *feed.Column) string {
	if g == langZh && c.Zh != "" {
		return c.Zh
	}
	return c.Name
}

// colOf names column name of feed f (the name itself when f has no such column).
func (g lang) colOf(f *feed.Feed, name string) string {
	if i := f.Col(name); i >= 0 {
		return g.col(&f.Columns[i])
	}
	return name
}

// feed names a feed: its BOSS report name in Chinese (业务办理日报), else its name (order).
func (g lang) feed(id feed.ID) string {
	if g == langZh {
		return feed.Get(id).Zh
	}
	return id.String()
}

// feedNamed is feed for a feed's name (an orig_feed value); an unknown name is itself.
func (g lang) feedNamed(name string) string {
	if id, ok := feed.ByName(name); ok {
		return g.feed(id)
	}
	return name
}

// missing is the detail of the FEED_MISSING of an input a connector could not deliver. The
// error of a failed pull is the transport's or the API's own text (a status line, a
// network error): it is shown as is, in both languages.
func (g lang) missing(m connectors.Missing) string {
	w := m.Why
	tries := func() string {
		if w.Tries == 1 {
			return g.s(tOneTry)
		}
		return g.f(tTries, w.Tries)
	}
	switch w.Kind {
	case connectors.WhyNoFile:
		f := feed.Get(m.Feed)
		return g.f(tNoFeedFile, f.Name, f.Zh, w.Dir)
	case connectors.WhyPullFailed:
		return g.f(tPullFailed, w.Request, w.Err, tries())
	case connectors.WhyPullLate:
		return g.f(tPullFailedLate, w.Request, w.Err, tries(), w.Deadline)
	case connectors.WhyPullNotDone:
		return g.f(tPullNotDone, w.Request, w.Deadline)
	}
	return m.Reason
}

// join joins the problems of one row or input: "；" in Chinese, "; " in English.
func (g lang) join(parts []string) string {
	if g == langZh {
		return strings.Join(parts, "；")
	}
	return strings.Join(parts, "; ")
}

// list joins the items of a list: "、" in Chinese, ", " in English.
func (g lang) list(items []string) string {
	if g == langZh {
		return strings.Join(items, "、")
	}
	return strings.Join(items, ", ")
}
