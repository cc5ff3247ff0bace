package report

import (
	"fmt"

	"settle/engine"
	"settle/feed"
)

// labels are the words of one report language.
type labels struct {
	lang string

	title, outletTitle, cityTitle string

	city, outlet, counter, date, runID, generated, source, status string
	complete, incomplete, incompleteNote                          string

	unit                                          string
	revenue, category, item, gross, reversed, net string
	total                                         string

	deposit, payMethod, expected, deposited, variance, result string
	short, over, balanced                                     string

	exceptions, code, description, severity, feedCol, txn, amount, detail, sourceCol string
	noExceptions                                                                     string
	exceptionCount                                                                   string // %d total, %d errors, %d warnings
	sevError, sevWarning                                                             string

	signoff, clerk, reviewer, signDate, signNote string

	// footer is the PDF footer; %d is the page, {nb} the page count.
	footer string
	// xlsxFooter is the print footer of every sheet (&P page, &N pages).
	xlsxFooter string

	summarySheet, exceptionSheet, countersSheet, outletsSheet string
	line                                                      string
	counters, incompleteCount, errors, warnings               string
	totalOf                                                   string // "%s 合计"
}

var zh = &labels{
	lang:        "zh",
	title:       "柜台日结算报告",
	outletTitle: "营业厅日结算汇总",
	cityTitle:   "地市日结算汇总",

	city: "地市", outlet: "营业厅", counter: "柜台(工号)", date: "账务日期", runID: "运行编号",
	generated: "生成时间", source: "数据来源", status: "状态",
	complete: "完整 COMPLETE", incomplete: "未完成 INCOMPLETE",
	incompleteNote: "报表数据不完整，不得据此签字结算。原因：",

	unit:    "单位：元",
	revenue: "一、营收（按类别 × 支付方式）", category: "类别", item: "项目",
	gross: "收入", reversed: "冲退", net: "净额", total: "合计",

	deposit: "二、解款核对（长短款）", payMethod: "支付方式", expected: "应解金额",
	deposited: "实解金额", variance: "长短款", result: "结果",
	short: "短款", over: "长款", balanced: "相符",

	exceptions: "三、异常", code: "代码", description: "说明", severity: "级别", feedCol: "报表",
	txn: "流水号", amount: "金额", detail: "详情", sourceCol: "来源",
	noExceptions:   "无异常。",
	exceptionCount: "共 %d 条：错误 %d 条，警告 %d 条。",
	sevError:       "错误", sevWarning: "警告",

	signoff: "四、签字确认", clerk: "营业员", reviewer: "复核人", signDate: "日期",
	signNote: "所有“错误”级异常须查明并说明后方可签字。",

	footer:     "第 %d 页 / 共 {nb} 页",
	xlsxFooter: "第 &P 页 / 共 &N 页",

	summarySheet: "汇总", exceptionSheet: "异常", countersSheet: "柜台", outletsSheet: "营业厅",
	line:     "行号",
	counters: "柜台数", incompleteCount: "未完成柜台数", errors: "错误数", warnings: "警告数",
	totalOf: "%s 合计",
}

var en = &labels{
	lang:        "en",
	title:       "Counter Daily Settlement Report",
	outletTitle: "Outlet Daily Settlement Summary",
	cityTitle:   "City Daily Settlement Summary",

	city: "City", outlet: "Outlet", counter: "Counter", date: "Business date", runID: "Run ID",
	generated: "Generated at", source: "Source", status: "Status",
	complete: "COMPLETE", incomplete: "INCOMPLETE",
	incompleteNote: "The data is incomplete: do not sign off on these figures. Reasons:",

	unit:    "Amounts in yuan (CNY)",
	revenue: "1. Revenue by category × pay method", category: "Category", item: "Item",
	gross: "Gross", reversed: "Reversed", net: "Net", total: "Total",

	deposit: "2. Deposit check", payMethod: "Pay method", expected: "Expected",
	deposited: "Deposited", variance: "Variance", result: "Result",
	short: "Shortfall", over: "Overage", balanced: "Balanced",

	exceptions: "3. Exceptions", code: "Code", description: "Description", severity: "Severity",
	feedCol: "Feed", txn: "Txn", amount: "Amount", detail: "Detail", sourceCol: "Source",
	noExceptions:   "No exceptions.",
	exceptionCount: "%d in all: %d errors, %d warnings.",
	sevError:       "ERROR", sevWarning: "WARNING",

	signoff: "4. Sign-off", clerk: "Clerk", reviewer: "Reviewer", signDate: "Date",
	signNote: "Every ERROR must be explained before sign-off.",

	footer:     "Page %d / {nb}",
	xlsxFooter: "Page &P / &N",

	summarySheet: "Summary", exceptionSheet: "Exceptions", countersSheet: "Counters", outletsSheet: "Outlets",
	line:     "line",
	counters: "Counters", incompleteCount: "Incomplete", errors: "Errors", warnings: "Warnings",
	totalOf: "%s total",
}

func labelsFor(lang string) (*labels, error) {
	switch lang {
	case "", "zh":
		return zh, nil
	case "en":
		return en, nil
	}
	return nil, fmt.Errorf("lang %q: want zh or en", lang)
}

// Names are the display names the reports of one language give categories, pay methods, feeds,
// exception codes and severities, for anything else that shows them (the web pages) to say
// what the reports say.
type Names struct{ l *labels }

// NamesFor returns the names of lang: "zh" (or empty) or "en".
func NamesFor(lang string) (Names, error) {
	l, err := labelsFor(lang)
	return Names{l}, err
}

// Category is the name of a settlement category; an unknown code shows itself.
func (n Names) Category(code string) string { return n.l.categoryName(code) }

// PayMethod is the name of a pay method; an unknown code shows itself.
func (n Names) PayMethod(code string) string { return n.l.payMethodName(code) }

// Feed is the name of a feed given by its canonical name; an unknown name shows itself.
func (n Names) Feed(name string) string { return n.l.feedName(name) }

// Code is the description of an exception code; empty for an unknown code.
func (n Names) Code(code engine.Code) string { return n.l.codeDescription(code) }

// Severity is the name of a severity; an unknown one shows itself.
func (n Names) Severity(sev engine.Severity) string { return n.l.severityName(sev) }

// categoryName is the display name of a settlement category.
func (l *labels) categoryName(code string) string {
	for _, c := range feed.Categories {
		if c.Code == code {
			if l.lang == "en" {
				return c.En
			}
			return c.Zh
		}
	}
	return code
}

var payMethodEn = map[string]string{
	"CASH": "Cash", "POS": "Bank card (POS)", "WECHAT": "WeChat Pay", "ALIPAY": "Alipay", "CHEQUE": "Cheque",
}

// payMethodName is the display name of a pay method.
func (l *labels) payMethodName(code string) string {
	if l.lang == "en" {
		if n, ok := payMethodEn[code]; ok {
			return n
		}
		return code
	}
	return feed.PayMethods.ZhOf(code)
}

// feedName is the display name of a feed given by its canonical name.
func (l *labels) feedName(name string) string {
	if l.lang == "en" {
		return name
	}
	if id, ok := feed.ByName(name); ok {
		return feed.Get(id).Zh
	}
	return name
}

// codeDescription is the description of an exception code in the report's language.
func (l *labels) codeDescription(code engine.Code) string {
	c, ok := engine.CodeInfo(code)
	if !ok {
		return ""
	}
	if l.lang == "en" {
		return c.En
	}
	return c.Zh
}

// severityName is the display name of a severity.
func (l *labels) severityName(sev engine.Severity) string {
	switch sev {
	case engine.SevError:
		return l.sevError
	case engine.SevWarning:
		return l.sevWarning
	}
	return string(sev)
}

// enumName shows an enumeration value of a feed column: its Chinese name in zh, the code in en.
func (l *labels) enumName(e *feed.Enumeration, code string) string {
	if l.lang == "en" || e == nil {
		return code
	}
	return e.ZhOf(code)
}

// columnName is the header of a feed column.
func (l *labels) columnName(c feed.Column) string {
	if l.lang == "en" {
		return c.Name
	}
	return c.Zh
}

// sheetOfFeed is the name of a feed's detail sheet.
func (l *labels) sheetOfFeed(f *feed.Feed) string {
	if l.lang == "en" {
		return f.Name
	}
	return f.Zh
}

// colon appends a colon as the language writes it.
func (l *labels) colon(s string) string {
	if l.lang == "en" {
		return s + ":"
	}
	return s + "："
}
