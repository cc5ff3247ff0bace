package i18n

// Report labels: the words of the XLSX and PDF reports.
const (
	ReportTitle Key = iota
	ReportOutletTitle
	ReportCityTitle
	ReportCity
	ReportOutlet
	ReportCounter
	ReportDate
	ReportRunID
	ReportGenerated
	ReportSource
	ReportStatus
	ReportComplete
	ReportIncomplete
	ReportIncompleteNote
	ReportUnit
	ReportRevenue
	ReportCategory
	ReportItem
	ReportGross
	ReportReversed
	ReportNet
	ReportTotal
	ReportDeposit
	ReportPayMethod
	ReportExpected
	ReportDeposited
	ReportVariance
	ReportResult
	ReportShort
	ReportOver
	ReportBalanced
	ReportExceptions
	ReportCode
	ReportDescription
	ReportSeverity
	ReportFeedCol
	ReportTxn
	ReportAmount
	ReportDetail
	ReportSourceCol
	ReportNoExceptions
	ReportExceptionCount // %d total, %d errors, %d warnings
	ReportSevError
	ReportSevWarning
	ReportSignoff
	ReportClerk
	ReportReviewer
	ReportSignDate
	ReportSignNote
	ReportFooter     // the PDF footer: %d the page, {nb} the page count
	ReportXlsxFooter // the print footer of every sheet: &P the page, &N the pages
	ReportSummarySheet
	ReportExceptionSheet
	ReportCountersSheet
	ReportOutletsSheet
	ReportLine
	ReportCounters
	ReportIncompleteCount
	ReportErrors
	ReportWarnings
	ReportTotalOf // %s: what the total is of

	nKeys
)

// firstReport and lastReport bound the report labels, which a PDF font is cut to.
const firstReport, lastReport = ReportTitle, ReportTotalOf

// table holds every text: key → {zh, en}.
var table = [nKeys][2]string{
	ReportTitle:           {"柜台日结算报告", "Counter Daily Settlement Report"},
	ReportOutletTitle:     {"营业厅日结算汇总", "Outlet Daily Settlement Summary"},
	ReportCityTitle:       {"地市日结算汇总", "City Daily Settlement Summary"},
	ReportCity:            {"地市", "City"},
	ReportOutlet:          {"营业厅", "Outlet"},
	ReportCounter:         {"柜台(工号)", "Counter"},
	ReportDate:            {"账务日期", "Business date"},
	ReportRunID:           {"运行编号", "Run ID"},
	ReportGenerated:       {"生成时间", "Generated at"},
	ReportSource:          {"数据来源", "Source"},
	ReportStatus:          {"状态", "Status"},
	ReportComplete:        {"完整 COMPLETE", "COMPLETE"},
	ReportIncomplete:      {"未完成 INCOMPLETE", "INCOMPLETE"},
	ReportIncompleteNote:  {"报表数据不完整，不得据此签字结算。原因：", "The data is incomplete: do not sign off on these figures. Reasons:"},
	ReportUnit:            {"单位：元", "Amounts in yuan (CNY)"},
	ReportRevenue:         {"一、营收（按类别 × 支付方式）", "1. Revenue by category × pay method"},
	ReportCategory:        {"类别", "Category"},
	ReportItem:            {"项目", "Item"},
	ReportGross:           {"收入", "Gross"},
	ReportReversed:        {"冲退", "Reversed"},
	ReportNet:             {"净额", "Net"},
	ReportTotal:           {"合计", "Total"},
	ReportDeposit:         {"二、解款核对（长短款）", "2. Deposit check"},
	ReportPayMethod:       {"支付方式", "Pay method"},
	ReportExpected:        {"应解金额", "Expected"},
	ReportDeposited:       {"实解金额", "Deposited"},
	ReportVariance:        {"长短款", "Variance"},
	ReportResult:          {"结果", "Result"},
	ReportShort:           {"短款", "Shortfall"},
	ReportOver:            {"长款", "Overage"},
	ReportBalanced:        {"相符", "Balanced"},
	ReportExceptions:      {"三、异常", "3. Exceptions"},
	ReportCode:            {"代码", "Code"},
	ReportDescription:     {"说明", "Description"},
	ReportSeverity:        {"级别", "Severity"},
	ReportFeedCol:         {"报表", "Feed"},
	ReportTxn:             {"流水号", "Txn"},
	ReportAmount:          {"金额", "Amount"},
	ReportDetail:          {"详情", "Detail"},
	ReportSourceCol:       {"来源", "Source"},
	ReportNoExceptions:    {"无异常。", "No exceptions."},
	ReportExceptionCount:  {"共 %d 条：错误 %d 条，警告 %d 条。", "%d in all: %d errors, %d warnings."},
	ReportSevError:        {"错误", "ERROR"},
	ReportSevWarning:      {"警告", "WARNING"},
	ReportSignoff:         {"四、签字确认", "4. Sign-off"},
	ReportClerk:           {"营业员", "Clerk"},
	ReportReviewer:        {"复核人", "Reviewer"},
	ReportSignDate:        {"日期", "Date"},
	ReportSignNote:        {"所有“错误”级异常须查明并说明后方可签字。", "Every ERROR must be explained before sign-off."},
	ReportFooter:          {"第 %d 页 / 共 {nb} 页", "Page %d / {nb}"},
	ReportXlsxFooter:      {"第 &P 页 / 共 &N 页", "Page &P / &N"},
	ReportSummarySheet:    {"汇总", "Summary"},
	ReportExceptionSheet:  {"异常", "Exceptions"},
	ReportCountersSheet:   {"柜台", "Counters"},
	ReportOutletsSheet:    {"营业厅", "Outlets"},
	ReportLine:            {"行号", "line"},
	ReportCounters:        {"柜台数", "Counters"},
	ReportIncompleteCount: {"未完成柜台数", "Incomplete"},
	ReportErrors:          {"错误数", "Errors"},
	ReportWarnings:        {"警告数", "Warnings"},
	ReportTotalOf:         {"%s 合计", "%s total"},
}
