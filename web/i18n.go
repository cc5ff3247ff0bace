package web

import (
	"fmt"
	"time"

	"settle/engine"
	"settle/report"
)

// lang is the words of one page language: Chinese (the default) or English.
type lang struct {
	Lang  string // zh or en
	msgs  map[string]string
	names report.Names // categories, pay methods, feeds, codes, severities
}

var langs = func() map[string]*lang {
	out := map[string]*lang{}
	for i, code := range []string{"zh", "en"} { // messages hold {zh, en}
		names, err := report.NamesFor(code)
		if err != nil {
			panic(err) // a page language the reports do not have
		}
		l := &lang{Lang: code, msgs: make(map[string]string, len(messages)), names: names}
		for k, v := range messages {
			l.msgs[k] = v[i]
		}
		out[code] = l
	}
	return out
}()

// T returns the message key in the language; an unknown key shows itself (a test catches it).
func (l *lang) T(key string) string {
	if m, ok := l.msgs[key]; ok {
		return m
	}
	return key
}

// Tf formats the message key with args.
func (l *lang) Tf(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }

// Other is the other language's code, for the switch.
func (l *lang) Other() string {
	if l.Lang == "en" {
		return "zh"
	}
	return "en"
}

// OtherName is the other language's name, in itself.
func (l *lang) OtherName() string {
	if l.Lang == "en" {
		return "中文"
	}
	return "English"
}

// Cat is the name of a settlement category, as the reports give it.
func (l *lang) Cat(code string) string { return l.names.Category(code) }

// Pay is the name of a pay method, as the reports give it.
func (l *lang) Pay(code string) string { return l.names.PayMethod(code) }

// Feed is the name of a feed given by its canonical name, as the reports give it.
func (l *lang) Feed(name string) string { return l.names.Feed(name) }

// Code is the description of an exception code, as the reports give it.
func (l *lang) Code(code engine.Code) string { return l.names.Code(code) }

// Sev is the name of a severity, as the reports give it.
func (l *lang) Sev(s engine.Severity) string { return l.names.Severity(s) }

// Field is the name of a figure, field or manifest figure of the diff.
func (l *lang) Field(name string) string {
	if m, ok := l.msgs["f_"+name]; ok {
		return m
	}
	return name
}

// Status is the name of a run's status.
func (l *lang) Status(s string) string {
	switch s {
	case "complete":
		return l.T("complete_short")
	case "incomplete":
		return l.T("incomplete_short")
	}
	return s
}

// Time shows a time in Asia/Shanghai to the second.
func (l *lang) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(engine.Shanghai).Format("2006-01-02 15:04:05")
}

// messages holds every text of the pages: key → {zh, en}.
var messages = map[string][2]string{
	"app":              {"柜台日结算", "Counter settlement"},
	"login":            {"登录", "Log in"},
	"logout":           {"退出", "Log out"},
	"username":         {"用户名", "User name"},
	"password":         {"密码", "Password"},
	"login_failed":     {"用户名或密码错误。", "Wrong user name or password."},
	"login_limited":    {"尝试次数过多，请 %d 秒后再试。", "Too many attempts: try again in %d seconds."},
	"login_expired":    {"页面已过期，请重新登录。", "The page expired: please log in again."},
	"role_clerk":       {"营业员", "Clerk"},
	"role_reviewer":    {"复核人", "Reviewer"},
	"role_auditor":     {"稽核", "Auditor"},
	"date":             {"账务日期", "Business date"},
	"show":             {"查看", "Show"},
	"run_button":       {"一键生成结算报表", "Settle this day"},
	"run_hint":         {"本日尚无结算。点击按钮从数据源拉取九张日报并对账，约需几十秒。", "This day has not been settled yet. The button pulls the nine daily feeds and reconciles them; it takes a few seconds to a minute."},
	"rerun_button":     {"重新对账", "Run again"},
	"rerun_hint":       {"重新拉取并对账本日。已确认或已复核的柜台保持签字时的报表。", "Pulls and reconciles the day again. Certified and approved counters keep the report that was signed."},
	"rerun_incomplete": {"数据不完整时可重新拉取：", "The data is incomplete; pull it again:"},
	"running":          {"正在生成结算报表…", "Settling the day…"},
	"stage_queued":     {"排队等待", "Waiting for another run"},
	"stage_render":     {"生成演示数据", "Generating the demo day"},
	"stage_scan":       {"读取导出文件", "Reading the export files"},
	"stage_pull":       {"拉取日报", "Pulling the feeds"},
	"stage_read":       {"对账", "Reconciling"},
	"stage_reports":    {"生成报表", "Writing the reports"},
	"stage_start":      {"开始", "Starting"},
	"elapsed":          {"已用时 %.0f 秒", "%.0f s elapsed"},
	"run_failed":       {"生成失败：", "The run failed: "},
	"noscript_refresh": {"页面每 2 秒自动刷新。", "This page refreshes every 2 seconds."},
	"no_counters":      {"您没有分配柜台。", "No counters are assigned to you."},
	"counter_absent":   {"本日结算中没有柜台 %s。", "Counter %s is not in this day's run."},
	"no_run_view":      {"本日尚无结算。", "This day has not been settled yet."},

	"city":            {"地市", "City"},
	"outlet":          {"营业厅", "Outlet"},
	"counter":         {"柜台", "Counter"},
	"run_id":          {"运行编号", "Run ID"},
	"generated":       {"生成时间", "Generated"},
	"source":          {"数据来源", "Source"},
	"status":          {"状态", "Status"},
	"complete":        {"完整", "Complete"},
	"incomplete":      {"数据不完整", "INCOMPLETE"},
	"incomplete_note": {"数据不完整，不得据此签字结算。原因：", "The data is incomplete: do not sign off on these figures. Reasons:"},
	"download_pdf":    {"下载 PDF", "Download PDF"},
	"download_xlsx":   {"下载 Excel", "Download Excel"},
	"downloads":       {"报表下载", "Reports"},

	"revenue":     {"一、营收（净额，按类别 × 支付方式）", "1. Revenue (net) by category × pay method"},
	"revenue_det": {"明细：笔数、收入、冲退、净额", "Detail: count, gross, reversed, net"},
	"unit":        {"单位：元", "Amounts in yuan"},
	"category":    {"类别", "Category"},
	"pay_method":  {"支付方式", "Pay method"},
	"txn_count":   {"笔数", "Count"},
	"gross":       {"收入", "Gross"},
	"reversed":    {"冲退", "Reversed"},
	"net":         {"净额", "Net"},
	"total":       {"合计", "Total"},
	"no_revenue":  {"本日无营收。", "No revenue this day."},

	"deposit":    {"二、解款核对（长短款）", "2. Deposit check"},
	"expected":   {"应解金额", "Expected"},
	"deposited":  {"实解金额", "Deposited"},
	"variance":   {"长短款", "Variance"},
	"result":     {"结果", "Result"},
	"short":      {"短款", "Shortfall"},
	"over":       {"长款", "Overage"},
	"balanced":   {"相符", "Balanced"},
	"no_deposit": {"本日无解款核对数据。", "No deposit check this day."},

	"exceptions":    {"三、异常", "3. Exceptions"},
	"exc_count":     {"共 %d 条：错误 %d 条，警告 %d 条。", "%d in all: %d errors, %d warnings."},
	"no_exceptions": {"无异常。", "No exceptions."},
	"severity":      {"级别", "Severity"},
	"code":          {"代码", "Code"},
	"description":   {"说明", "Description"},
	"feed":          {"报表", "Feed"},
	"txn":           {"流水号", "Txn"},
	"amount":        {"金额", "Amount"},
	"detail":        {"详情", "Detail"},
	"source_col":    {"来源", "Source"},
	"city_wide":     {"（全市）", "(city-wide)"},

	"signoff":         {"四、签字确认", "4. Sign-off"},
	"state_open":      {"待营业员确认", "Awaiting the clerk"},
	"state_certified": {"营业员已确认，待复核", "Certified by the clerk, awaiting review"},
	"state_approved":  {"已复核 · 已锁定", "Approved · locked"},
	"state_returned":  {"已退回", "Sent back"},
	"state_reopened":  {"已重新打开", "Reopened"},
	"pinned_note":     {"页面与下载均为签字时的报表（运行 %s，PDF sha256 %s）。", "The page and the downloads are the report as signed (run %s, PDF sha256 %s)."},
	"newer_run":       {"本日已有更新的运行 %s；它不会替换已签字的报表，除非复核人退回或重新打开。", "A newer run of the day exists (%s); it does not replace the signed report unless a reviewer sends it back or reopens it."},
	"certify":         {"营业员确认", "Certify (clerk)"},
	"certify_hint":    {"我已核对以上数字、长短款和异常。", "I have checked the figures, the deposit check and the exceptions above."},
	"certify_comment": {"说明（有“错误”级异常时必填）", "Explanation (required when there are ERRORs)"},
	"approve":         {"复核通过", "Approve (review)"},
	"return":          {"退回", "Send back"},
	"reopen":          {"重新打开", "Reopen"},
	"comment":         {"意见", "Comment"},
	"reopen_hint":     {"重新打开后，本柜台将显示本日最新的运行，需营业员重新确认。必须填写原因。", "Reopening shows the day's latest run for this counter; the clerk certifies again. A reason is required."},
	"history":         {"签字记录", "Sign-off record"},
	"act_certify":     {"营业员确认", "certified"},
	"act_approve":     {"复核通过", "approved"},
	"act_return":      {"退回", "sent back"},
	"act_reopen":      {"重新打开", "reopened"},
	"act_repair":      {"日志修复（截去残行）", "log repaired (torn line cut off)"},
	"who":             {"人员", "Who"},
	"when":            {"时间", "When"},
	"action":          {"操作", "Action"},

	"err_comment_required": {"请填写说明或意见。", "Please write an explanation or comment."},
	"err_errors_need_note": {"本柜台有“错误”级异常：确认前须填写说明。", "This counter has ERRORs: explain them before certifying."},
	"err_incomplete":       {"数据不完整，不能确认。请重新对账。", "The data is incomplete and cannot be certified. Run the day again."},
	"err_stale":            {"报表已更新，请重新核对后再操作。", "The report changed: check it again, then act."},
	"err_state":            {"当前状态不允许此操作。", "This cannot be done in the current state."},
	"err_confirm":          {"请勾选确认。", "Please tick the box to confirm."},
	"ok_certify":           {"已确认。", "Certified."},
	"ok_approve":           {"已复核通过，本柜台本日已锁定。", "Approved: the counter-day is locked."},
	"ok_return":            {"已退回营业员。", "Sent back to the clerk."},
	"ok_reopen":            {"已重新打开。", "Reopened."},
	"ok_run":               {"结算已完成。", "The day is settled."},
	"forbidden":            {"无权访问。", "You may not see this."},
	"forbidden_counter":    {"无权查看此柜台：您只能查看分配给您的柜台。", "You may not see this counter: only the counters assigned to you."},
	"not_found":            {"未找到。", "Not found."},
	"bad_request":          {"请求无效。", "Bad request."},
	"server_error":         {"服务器错误，请联系管理员。", "Server error: please tell the administrator."},
	"back":                 {"返回", "Back"},
	"counters_of_day":      {"本日柜台", "Counters of the day"},
	"errors_n":             {"错误", "Errors"},
	"runs":                 {"本日运行", "Runs of the day"},
	"current":              {"当前", "current"},
	"started":              {"开始", "Started"},
	"finished":             {"结束", "Finished"},
	"tool_version":         {"版本", "Version"},
	"counters_n":           {"柜台数", "Counters"},
	"exceptions_n":         {"异常数", "Exceptions"},
	"compare":              {"比较两次运行", "Compare two runs"},
	"run_a":                {"运行 A（旧）", "Run A (older)"},
	"run_b":                {"运行 B（新）", "Run B (newer)"},
	"compare_button":       {"比较", "Compare"},
	"need_two_runs":        {"本日只有一次运行，无可比较。", "The day has a single run: nothing to compare."},
	"signoff_log":          {"签字日志", "Sign-off log"},
	"no_events":            {"暂无签字记录。", "No sign-off events yet."},
	"diff_title":           {"运行差异", "Differences between runs"},
	"diff_equal":           {"两次运行一致：没有数字或异常变化。", "The two runs agree: no figure or exception changed."},
	"diff_cause":           {"原因", "Cause"},
	"cause_inputs":         {"输入数据变化，程序版本未变", "The inputs changed; the tool version did not"},
	"cause_version":        {"程序版本变化，输入数据未变", "The tool version changed; the inputs did not"},
	"cause_both":           {"输入数据与程序版本均有变化", "Both the inputs and the tool version changed"},
	"cause_neither":        {"输入数据与程序版本均未变化", "Neither the inputs nor the tool version changed"},
	"diff_totals":          {"柜台 %d 个有变化；营收行 变化 %d、新增 %d、删除 %d，净额 %s；解款行 变化 %d、新增 %d、删除 %d，长短款 %s；异常 新增 %d、消除 %d、变化 %d。", "%d counters changed; settlement lines %d changed, %d added, %d removed, net %s; variance lines %d changed, %d added, %d removed, variance %s; exceptions %d added, %d resolved, %d changed."},
	"diff_feeds":           {"报表变化", "Feeds that changed"},
	"kind":                 {"类型", "Kind"},
	"f_txn_count":          {"笔数", "count"},
	"f_gross":              {"收入", "gross"},
	"f_reversed":           {"冲退", "reversed"},
	"f_net":                {"净额", "net"},
	"f_expected":           {"应解金额", "expected"},
	"f_deposited":          {"实解金额", "deposited"},
	"f_variance":           {"长短款", "variance"},
	"f_severity":           {"级别", "severity"},
	"f_amount":             {"金额", "amount"},
	"f_detail":             {"详情", "detail"},
	"f_city":               {"地市", "city"},
	"f_outlet_id":          {"营业厅", "outlet"},
	"f_sha256":             {"输入校验和", "input sha256"},
	"f_rows_sha256":        {"有效行校验和", "valid rows sha256"},
	"f_inputs":             {"输入数", "inputs"},
	"f_files":              {"文件数", "files"},
	"f_pulls":              {"拉取数", "pulls"},
	"f_bytes":              {"字节数", "bytes"},
	"f_rows_read":          {"读取行", "rows read"},
	"f_valid":              {"有效行", "valid"},
	"f_rejected":           {"拒绝行", "rejected"},
	"differs":              {"不同", "differs"},
	"sep_colon":            {"：", ": "},
	"sep_comma":            {"，", ", "},
	"err_future":           {"不能结算未来的日期。", "A future date cannot be settled."},
	"err_too_old_clerk":    {"营业员只能结算最近 %d 天的日期（%s 至 %s）。更早的日期请联系复核人。", "Clerks can settle only the last %d days (%s to %s). For an earlier date, ask your reviewer."},
	"err_too_old_reviewer": {"复核人只能结算最近 %d 天的日期（%s 至 %s）。", "Reviewers can settle only the last %d days (%s to %s)."},
	"diff_by_counter":      {"按柜台", "By counter"},
	"diff_rows":            {"明细（每个变化的数字或字段一行）", "Detail (one row per figure or field that changed)"},
	"lines_changed":        {"营收行", "Revenue lines"},
	"var_lines_changed":    {"解款行", "Deposit lines"},
	"exc_added":            {"异常新增", "Exceptions added"},
	"exc_resolved":         {"异常消除", "Exceptions resolved"},
	"exc_changed":          {"异常变化", "Exceptions changed"},
	"net_delta":            {"净额差", "Net Δ"},
	"variance_delta":       {"长短款差", "Variance Δ"},
	"approve_comment":      {"复核意见（可选）", "Comment (optional)"},
	"return_comment":       {"退回原因（必填）", "Why it goes back (required)"},
	"reopen_comment":       {"重新打开原因（必填）", "Why it is reopened (required)"},
	"change":               {"变化", "Change"},
	"item":                 {"项目", "Item"},
	"field":                {"字段", "Field"},
	"old":                  {"旧值", "Old"},
	"new":                  {"新值", "New"},
	"delta":                {"差额", "Delta"},
	"kind_settlement":      {"营收", "revenue"},
	"kind_variance":        {"解款", "deposit"},
	"kind_exception":       {"异常", "exception"},
	"change_changed":       {"变化", "changed"},
	"change_added":         {"新增", "added"},
	"change_removed":       {"删除", "removed"},
	"change_resolved":      {"消除", "resolved"},
	"download_diff":        {"下载差异 Excel", "Download the diff (Excel)"},
	"feeds":                {"报表", "Feeds"},
	"rows_read":            {"读取行", "Rows read"},
	"valid":                {"有效", "Valid"},
	"rejected":             {"拒绝", "Rejected"},
	"files":                {"文件", "Files"},
	"pulls":                {"拉取", "Pulls"},
	"by_code":              {"异常（按代码）", "Exceptions by code"},
	"outputs":              {"输出文件", "Output files"},
	"path":                 {"路径", "Path"},
	"size":                 {"大小", "Size"},
	"all_dates":            {"全部日期", "All dates"},
	"state":                {"签字状态", "Sign-off"},
	"net_total":            {"净额合计", "Net total"},
	"variance_total":       {"长短款合计", "Variance total"},
	"reviewer_hint":        {"点击柜台查看报表并复核。", "Open a counter to see its report and review it."},
	"auditor_counters":     {"本日柜台（只读）", "Counters of the day (read only)"},
	"run_of":               {"运行 %s", "Run %s"},
	"complete_short":       {"完整", "complete"},
	"incomplete_short":     {"不完整", "incomplete"},
	"ok":                   {"正常", "OK"},
	"pinned_missing":       {"签字时的运行 %s 不在存储中：请联系管理员。", "The signed run %s is not in the store: tell the administrator."},
	"report_altered":       {"报表文件与签字时的校验和不符：请联系管理员。", "The report file does not match the checksum signed: tell the administrator."},
	"latest_comment":       {"最近意见：", "Latest comment: "},
	"audit_runs_hint":      {"每次运行的清单、两次运行的差异和签字日志。", "Every run's manifest, the diff of any two, and the sign-off log."},
}
