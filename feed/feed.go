// Package feed describes the nine daily revenue feeds of FEEDS.md: their canonical and
// Chinese names, their columns and the enumerations those columns take. It is the single
// source of truth for every connector, the generator and the engine.
package feed

import (
	"fmt"
	"strings"
)

// ID names one of the nine feeds; the numeric order is the canonical order of RULES.md.
type ID int

// The nine feeds in canonical order (FEEDS.md, "The feeds").
const (
	Order ID = iota
	Purchase
	Reversal
	PaymentSummary
	LocalPayment
	RemotePayment
	CardSale
	Invoice
	Deposit
	// Count is the number of feeds.
	Count
)

// All lists the feeds in canonical order.
var All = [Count]ID{Order, Purchase, Reversal, PaymentSummary, LocalPayment, RemotePayment, CardSale, Invoice, Deposit}

// Kind is how a column's text is parsed and normalized.
type Kind int

// Column kinds.
const (
	Text   Kind = iota // free text, kept as read (trimmed)
	Ident              // 1–32 characters of [A-Za-z0-9_-]
	Date               // YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD
	Time               // YYYY-MM-DD HH:MM:SS (or / separators, or compact)
	Money              // yuan with at most two decimals, thousands separators allowed; stored as int64 fen
	Whole              // a whole number >= 0
	Enum               // one of Column.Enum's values, English or Chinese
	Digits             // a string of ASCII digits (card serials)
)

// Column is one column of a feed.
type Column struct {
	Name     string // canonical English header
	Zh       string // BOSS export (Chinese) header
	Kind     Kind
	Optional bool // may be empty (FEEDS.md "Every column is required except ...")
	Enum     *Enumeration
}

// Enumeration is a closed set of codes, each with its Chinese name.
type Enumeration struct {
	Name   string
	Values []string // canonical English codes
	Zh     []string // Chinese names, same order
}

// Parse maps text (English code, any letter case, or Chinese name) to the canonical code.
func (e *Enumeration) Parse(s string) (string, bool) {
	for i, v := range e.Values {
		if s == v || s == e.Zh[i] || strings.EqualFold(s, v) {
			return v, true
		}
	}
	return "", false
}

// ZhOf returns the Chinese name of a canonical code, or the code itself.
func (e *Enumeration) ZhOf(code string) string {
	for i, v := range e.Values {
		if v == code {
			return e.Zh[i]
		}
	}
	return code
}

// Enumerations of FEEDS.md.
var (
	PayMethods = &Enumeration{"pay_method",
		[]string{"CASH", "POS", "WECHAT", "ALIPAY", "CHEQUE"},
		[]string{"现金", "银行卡", "微信", "支付宝", "支票"}}
	ServiceCodes = &Enumeration{"service_code",
		[]string{"OPEN", "CONTRACT", "SIMCHG", "TRANSFER", "PLANCHG", "NUMSEL", "OTHER"},
		[]string{"开户", "合约购机", "补换卡", "过户", "套餐变更", "选号", "其他"}}
	ReversalKinds = &Enumeration{"kind",
		[]string{"VOID", "REFUND"},
		[]string{"冲正", "退费"}}
	OrigFeeds = &Enumeration{"orig_feed",
		[]string{"order", "purchase", "local_payment", "remote_payment", "card_sale"},
		[]string{"业务办理", "购机", "本地缴费", "异地缴费", "商务卡"}}
	SummaryCategories = &Enumeration{"category",
		[]string{"LOCAL", "REMOTE", "CARD"},
		[]string{"本地缴费", "异地缴费", "商务卡"}}
	ClearingStatuses = &Enumeration{"clearing_status",
		[]string{"CONFIRMED", "PENDING", "REJECTED"},
		[]string{"已清算", "待清算", "清算失败"}}
	InvoiceStatuses = &Enumeration{"status",
		[]string{"ISSUED", "VOIDED"},
		[]string{"已开具", "已作废"}}
)

// Feed describes one feed.
type Feed struct {
	ID      ID
	Name    string   // canonical name: file <name>.csv, API path /reports/<name>
	Zh      string   // BOSS report name, e.g. 购机日报
	Columns []Column // the four common columns first, then the feed's own, in FEEDS.md order
	// Category is the settlement category of a revenue feed (RULES.md §2), "" otherwise.
	Category string
}

// Common columns carried by every row.
var common = []Column{
	{Name: "biz_date", Zh: "账务日期", Kind: Date},
	{Name: "city", Zh: "地市", Kind: Ident},
	{Name: "outlet_id", Zh: "营业厅编码", Kind: Ident},
	{Name: "counter_id", Zh: "工号", Kind: Ident},
}

// Indexes of the common columns in every Feed.Columns.
const (
	ColBizDate = 0
	ColCity    = 1
	ColOutlet  = 2
	ColCounter = 3
)

func cols(own ...Column) []Column {
	out := append([]Column(nil), common...)
	return append(out, own...)
}

var (
	cTxnID   = Column{Name: "txn_id", Zh: "流水号", Kind: Text}
	cTxnTime = Column{Name: "txn_time", Zh: "受理时间", Kind: Time}
	cAmount  = Column{Name: "amount", Zh: "金额", Kind: Money}
	cPay     = Column{Name: "pay_method", Zh: "支付方式", Kind: Enum, Enum: PayMethods}
	cOrderID = Column{Name: "order_id", Zh: "订单号", Kind: Text}
	cMsisdn  = Column{Name: "msisdn", Zh: "手机号码", Kind: Text}
)

var feeds = [Count]*Feed{
	{ID: Order, Name: "order", Zh: "业务办理日报", Category: "ORDER_FEE", Columns: cols(
		cTxnID, cTxnTime, cOrderID, cMsisdn,
		Column{Name: "service_code", Zh: "业务类型", Kind: Enum, Enum: ServiceCodes},
		cAmount, cPay)},
	{ID: Purchase, Name: "purchase", Zh: "购机日报", Category: "TERMINAL", Columns: cols(
		cTxnID, cTxnTime, cOrderID,
		Column{Name: "imei", Zh: "串号", Kind: Text},
		Column{Name: "model", Zh: "机型", Kind: Text, Optional: true},
		cAmount, cPay)},
	{ID: Reversal, Name: "reversal", Zh: "冲退日报", Columns: cols(
		cTxnID, cTxnTime,
		Column{Name: "orig_txn_id", Zh: "原流水号", Kind: Text},
		Column{Name: "orig_date", Zh: "原账务日期", Kind: Date},
		Column{Name: "orig_feed", Zh: "原业务类型", Kind: Enum, Enum: OrigFeeds},
		Column{Name: "kind", Zh: "冲退类型", Kind: Enum, Enum: ReversalKinds},
		cAmount, cPay,
		Column{Name: "approver_id", Zh: "审批工号", Kind: Text, Optional: true},
		Column{Name: "reason", Zh: "原因", Kind: Text, Optional: true})},
	{ID: PaymentSummary, Name: "payment_summary", Zh: "交费日报", Columns: cols(
		Column{Name: "category", Zh: "缴费类别", Kind: Enum, Enum: SummaryCategories},
		cPay,
		Column{Name: "txn_count", Zh: "笔数", Kind: Whole},
		cAmount)},
	{ID: LocalPayment, Name: "local_payment", Zh: "本地缴费日报", Category: "LOCAL_BILL", Columns: cols(
		cTxnID, cTxnTime, cMsisdn,
		Column{Name: "account_id", Zh: "账户编码", Kind: Text},
		cAmount, cPay)},
	{ID: RemotePayment, Name: "remote_payment", Zh: "异地缴费日报", Category: "REMOTE_BILL", Columns: cols(
		cTxnID, cTxnTime, cMsisdn,
		Column{Name: "home_region", Zh: "归属地", Kind: Text},
		cAmount, cPay,
		Column{Name: "clearing_status", Zh: "清算状态", Kind: Enum, Enum: ClearingStatuses},
		Column{Name: "clearing_ref", Zh: "清算流水", Kind: Text, Optional: true})},
	{ID: CardSale, Name: "card_sale", Zh: "商务卡日报", Category: "CARD", Columns: cols(
		cTxnID, cTxnTime,
		Column{Name: "face_value", Zh: "面值", Kind: Money},
		Column{Name: "serial_from", Zh: "起始卡号", Kind: Digits},
		Column{Name: "serial_to", Zh: "终止卡号", Kind: Digits},
		Column{Name: "quantity", Zh: "数量", Kind: Whole},
		cAmount, cPay)},
	{ID: Invoice, Name: "invoice", Zh: "发票日报", Columns: cols(
		Column{Name: "invoice_code", Zh: "发票代码", Kind: Text},
		Column{Name: "invoice_no", Zh: "发票号码", Kind: Text},
		cTxnID, cTxnTime, cAmount,
		Column{Name: "status", Zh: "状态", Kind: Enum, Enum: InvoiceStatuses})},
	{ID: Deposit, Name: "deposit", Zh: "解款日报", Columns: cols(
		cPay, cAmount,
		Column{Name: "slip_no", Zh: "解款单号", Kind: Text, Optional: true})},
}

// Share is a feed's usual share of a day's rows, in percent (the demo city-day): the order
// the store reads and hashes a day's inputs in, and the engine parses them in, biggest
// first, so that no worker is left alone with the day's invoices at the end (a whole-city
// invoice file is 40% of the rows).
var Share = [Count]int{
	Invoice: 41, LocalPayment: 35, Order: 11, RemotePayment: 4, PaymentSummary: 4,
	Deposit: 2, Purchase: 1, CardSale: 1, Reversal: 1,
}

// Get returns the description of a feed.
func Get(id ID) *Feed { return feeds[id] }

// String returns the canonical name.
func (id ID) String() string {
	if id < 0 || id >= Count {
		return fmt.Sprintf("feed(%d)", int(id))
	}
	return feeds[id].Name
}

// ByName finds a feed by canonical name.
func ByName(name string) (ID, bool) {
	for _, f := range feeds {
		if f.Name == name {
			return f.ID, true
		}
	}
	return 0, false
}

// ByReportName finds the feed whose BOSS report name (e.g. 购机日报) or canonical name is in a
// file's base name without extension: "order", "太原_TY0001-03_购机日报" and "购机日报" all match.
// Report names are tried longest first so 本地缴费日报 is never taken for 缴费日报.
func ByReportName(base string) (ID, bool) {
	for _, f := range feeds {
		if base == f.Name {
			return f.ID, true
		}
	}
	best, bestLen := ID(-1), 0
	for _, f := range feeds {
		if strings.Contains(base, f.Zh) && len(f.Zh) > bestLen {
			best, bestLen = f.ID, len(f.Zh)
		}
	}
	return best, best >= 0
}

// Col returns the index of the named column in the feed, or -1.
func (f *Feed) Col(name string) int {
	for i, c := range f.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// HeaderName maps a header cell (English or Chinese, surrounding spaces ignored) to the
// canonical column name, for any column of any feed. ok is false for an unknown name.
func HeaderName(cell string) (name string, ok bool) {
	name, ok = vocabulary[strings.TrimSpace(cell)]
	return name, ok
}

var vocabulary = func() map[string]string {
	m := map[string]string{}
	for _, f := range feeds {
		for _, c := range f.Columns {
			m[c.Name] = c.Name
			m[c.Zh] = c.Name
		}
	}
	return m
}()

// Categories of settlement, in report order, with the feed each comes from.
var Categories = []struct {
	Code string
	Zh   string
	En   string
	Feed ID
}{
	{"ORDER_FEE", "业务费", "Service fees", Order},
	{"TERMINAL", "购机款", "Handsets", Purchase},
	{"LOCAL_BILL", "本地缴费", "Local bill payments", LocalPayment},
	{"REMOTE_BILL", "异地缴费(代收)", "Remote bill payments (collected)", RemotePayment},
	{"CARD", "商务卡", "Business cards", CardSale},
}

// CategoryOf returns the settlement category of a revenue feed named as in reversal.orig_feed.
func CategoryOf(origFeed string) string {
	if id, ok := ByName(origFeed); ok {
		return feeds[id].Category
	}
	return ""
}

// SummaryDetail maps a payment_summary category to the detail feed it totals (RULES.md §3).
func SummaryDetail(category string) ID {
	switch category {
	case "LOCAL":
		return LocalPayment
	case "REMOTE":
		return RemotePayment
	case "CARD":
		return CardSale
	}
	return -1
}

// IsRevenue reports whether a feed is one of the five revenue feeds (1, 2, 5, 6, 7).
func IsRevenue(id ID) bool { return feeds[id].Category != "" }

// HasTxnID reports whether txn_id uniqueness is checked in this feed (feeds 1, 2, 3, 5, 6, 7).
func HasTxnID(id ID) bool {
	switch id {
	case Order, Purchase, Reversal, LocalPayment, RemotePayment, CardSale:
		return true
	}
	return false
}

// ValidID reports whether s is an identifier of FEEDS.md: 1-32 of [A-Za-z0-9_-]. Only such
// ids ever become file or folder names.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
