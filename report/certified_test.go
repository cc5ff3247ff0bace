package report_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/connectors/demo"
	"settle/engine"
	"settle/fixtures"
	"settle/job"
	"settle/report"
	"settle/store"
)

// pdfToText is pdftotext's text of the PDF data (CI installs poppler-utils).
func pdfToText(t *testing.T, data []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext not found: CI must install poppler-utils")
		}
		t.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// demoRun is a published run of the demo day with its anomalies (2 outlets × 2 counters),
// reports rendered as `settle run` renders them.
func demoRun(t *testing.T) *store.Stored {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := fixtures.NewConfig()
	cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies = 2, 2, 3, 0.5
	opts := report.NewOptions()
	opts.Workers = 2
	out, err := job.Run(context.Background(), job.Config{
		Date: time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai), Source: demo.New(cfg), Store: st,
		Engine: engine.NewConfig(), Render: job.Reports(opts), LockTimeout: time.Minute, FailOn: "never",
	})
	if err != nil {
		t.Fatalf("demo run: %v", err)
	}
	s, err := store.OpenStored(out.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// busiest is the counter of the run with the most exceptions, and its exceptions.
func busiest(t *testing.T, run *store.Stored) (outlet, counter string, excs []engine.Exception) {
	t.Helper()
	tables, err := run.ReadTables(memory.NewGoAllocator())
	if err != nil {
		t.Fatal(err)
	}
	by := map[[2]string][]engine.Exception{}
	var keys [][2]string
	for _, e := range tables.Exceptions {
		if e.Counter == "" {
			continue
		}
		k := [2]string{e.Outlet, e.Counter}
		if by[k] == nil {
			keys = append(keys, k)
		}
		by[k] = append(by[k], e)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return len(by[b]) - len(by[a]) })
	if len(keys) == 0 || len(by[keys[0]]) < 2 {
		t.Fatal("the demo day has no counter with two exceptions")
	}
	return keys[0][0], keys[0][1], by[keys[0]]
}

// Names whose characters appear nowhere else in the run: the font must be cut to them.
const (
	clerkName    = "欧阳娴"
	reviewerName = "司马懿"
)

var certifiedAt = time.Date(2026, 11, 22, 9, 30, 0, 0, engine.Shanghai)

// itemsOf explains every exception: the text names a slip number of its own, so each can be
// looked for.
func itemsOf(excs []engine.Exception) []report.CertItem {
	items := make([]report.CertItem, len(excs))
	for i, e := range excs {
		items[i] = report.CertItem{Exception: e, State: "explained", Reason: "BOSS_ERROR", ReasonLabel: "BOSS数据差错待更正",
			Text: "工单 鲲鹏-" + strconv.Itoa(1000+i), By: "ouyang", ByName: clerkName, At: certifiedAt.Add(-time.Duration(i) * time.Minute)}
	}
	items[0].State, items[0].Comment = "accepted", "核实无误，同意"
	return items
}

func TestCertified(t *testing.T) {
	run := demoRun(t)
	outlet, counter, excs := busiest(t, run)
	items := itemsOf(excs)
	sign := report.SignBlock{ClerkName: clerkName, CertifiedAt: certifiedAt, ReviewerName: reviewerName}
	pdf, err := report.Certified(run, outlet, counter, items, sign, report.NewOptions())
	if err != nil {
		t.Fatal(err)
	}

	// The same bytes again, and whatever the order of the items.
	again, err := report.Certified(run, outlet, counter, slices.Clone(items), sign, report.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	reversed := slices.Clone(items)
	slices.Reverse(reversed)
	shuffled, err := report.Certified(run, outlet, counter, reversed, sign, report.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pdf, again) || !bytes.Equal(pdf, shuffled) {
		t.Error("two renders of the same certified report differ")
	}
	if !bytes.Contains(pdf, []byte("/CreationDate (D:20261122013000")) {
		t.Error("the PDF's creation date is not the certification time (2026-11-22 01:30:00 UTC)")
	}

	text := pdfToText(t, pdf)
	flat := strings.Join(strings.Fields(text), "")
	for i, it := range items {
		if !strings.Contains(flat, strings.ReplaceAll(it.Text, " ", "")) {
			t.Errorf("item %d (%s): its text %q is not in the PDF", i, it.Code, it.Text)
		}
	}
	for _, want := range []string{clerkName, "已说明", "已接受", "BOSS数据差错待更正", "核实无误，同意", "营业员已签字，待复核",
		"签字时间", "2026-11-2209:30:00+08:00", "处理提示", counter} {
		if !strings.Contains(flat, want) {
			t.Errorf("the certified report has no %q", want)
		}
	}
	if strings.Contains(text, reviewerName) || strings.Contains(text, "复核已通过") {
		t.Error("the reviewer is shown before approval")
	}
	if n := strings.Count(flat, "状态：") - strings.Count(flat, "签字状态："); n != len(items) {
		t.Errorf("%d item lines, want %d", n, len(items))
	}

	// Approved: the reviewer's name and time fill their lines.
	sign.ApprovedAt = certifiedAt.Add(3 * time.Hour)
	approved, err := report.Certified(run, outlet, counter, items, sign, report.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	flat = strings.Join(strings.Fields(pdfToText(t, approved)), "")
	for _, want := range []string{reviewerName, "复核已通过", "复核时间", "2026-11-2212:30:00+08:00", clerkName} {
		if !strings.Contains(flat, want) {
			t.Errorf("the approved report has no %q", want)
		}
	}
}

// moneyFigures are the amounts of the revenue and deposit sections (from the revenue title
// to the exceptions title), in order.
var moneyRE = regexp.MustCompile(`-?\d{1,3}(?:,\d{3})*\.\d\d`)

func moneyFigures(t *testing.T, text, from, to string) []string {
	t.Helper()
	i, j := strings.Index(text, from), strings.Index(text, to)
	if i < 0 || j < i {
		t.Fatalf("no %q … %q in the text", from, to)
	}
	return moneyRE.FindAllString(text[i:j], -1)
}

// TestCertifiedFigures: the certified report shows the figures of the run's own PDF of the
// counter, for every counter of the run.
func TestCertifiedFigures(t *testing.T) {
	run := demoRun(t)
	for p := range run.Manifest().Outputs {
		rest, ok := strings.CutPrefix(p, "reports/")
		if !ok || !strings.HasSuffix(rest, ".pdf") {
			continue
		}
		outlet, counter, ok := strings.Cut(strings.TrimSuffix(rest, ".pdf"), "/")
		if !ok || counter == "outlet" {
			continue // the roll-ups' PDFs (city.pdf, <outlet>/outlet.pdf)
		}
		own, err := os.ReadFile(filepath.Join(run.Dir(), p))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := report.Certified(run, outlet, counter, nil, report.SignBlock{ClerkName: clerkName, CertifiedAt: certifiedAt}, report.NewOptions())
		if err != nil {
			t.Fatal(err)
		}
		a, b := pdfToText(t, own), pdfToText(t, cert)
		fa, fb := moneyFigures(t, a, "一、营收", "三、异常"), moneyFigures(t, b, "一、营收", "三、异常")
		if len(fa) < 10 || !slices.Equal(fa, fb) {
			t.Errorf("%s: the run's PDF shows %q, the certified one %q", p, fa, fb)
		}
		// And the same exceptions section (the certified one adds only the item lines).
		if x, y := moneyFigures(t, a, "三、异常", "四、签字确认"), moneyFigures(t, b, "三、异常", "四、签字确认"); !slices.Equal(x, y) {
			t.Errorf("%s: exception amounts %q and %q", p, x, y)
		}
	}
}

func TestCertifiedEnglish(t *testing.T) {
	run := demoRun(t)
	outlet, counter, excs := busiest(t, run)
	o := report.NewOptions()
	o.Lang = "en"
	items := itemsOf(excs)
	items[1].State, items[1].Comment = "rejected", "slip number missing"
	pdf, err := report.Certified(run, outlet, counter, items, report.SignBlock{ClerkName: "Ouyang Xian", CertifiedAt: certifiedAt}, o)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfToText(t, pdf)
	for _, want := range []string{"State: explained", "State: rejected", "Reviewer's comment: slip number missing", "Ouyang Xian",
		"certified, awaiting approval", "Certified at", "What to do", "Taiyuan"} {
		if !strings.Contains(text, want) {
			t.Errorf("the English certified report has no %q", want)
		}
	}
}

func TestCertifiedRefused(t *testing.T) {
	run := demoRun(t)
	for _, c := range []struct{ outlet, counter, lang string }{
		{"TY9999", "TY9999-01", "zh"}, // no such counter
		{"../x", "TY0001-01", "zh"},   // not an id
		{"TY0001", "TY0001-01", "fr"}, // no such language
	} {
		o := report.NewOptions()
		o.Lang = c.lang
		if _, err := report.Certified(run, c.outlet, c.counter, nil, report.SignBlock{}, o); err == nil {
			t.Errorf("%s/%s (%s): no error", c.outlet, c.counter, c.lang)
		}
	}
}

// TestCertifiedUnmatchedItem: an item the run does not raise for the counter is still listed,
// with its own finding.
func TestCertifiedUnmatchedItem(t *testing.T) {
	run := demoRun(t)
	outlet, counter, _ := busiest(t, run)
	extra := report.CertItem{Exception: engine.Exception{Code: engine.CodeInvoiceGap, Severity: engine.SevWarning, Outlet: outlet,
		Counter: counter, Feed: "invoice", Key: "X9 1-2", Detail: "缺号 鸾凤"}, State: "acknowledged", ByName: clerkName}
	pdf, err := report.Certified(run, outlet, counter, []report.CertItem{extra}, report.SignBlock{ClerkName: clerkName, CertifiedAt: certifiedAt}, report.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(pdfToText(t, pdf)), "")
	for _, want := range []string{"缺号鸾凤", "状态：已知悉"} {
		if !strings.Contains(flat, want) {
			t.Errorf("no %q", want)
		}
	}
}

// TestNames: what the pages take from the reports' names besides codes and feeds.
func TestNames(t *testing.T) {
	zh, _ := report.NamesFor("zh")
	en, _ := report.NamesFor("en")
	for _, c := range []struct{ got, want string }{
		{zh.Region("TY"), "太原"}, {en.Region("TY"), "Taiyuan"}, {zh.Region("QQ"), "QQ"},
		{zh.State("resolved"), "已消除"}, {en.State("rejected"), "rejected"}, {zh.State("odd"), "odd"},
		{zh.Hint(engine.CodeDepositShort)[:len("查明短款原因")], "查明短款原因"}, {en.Hint("NO_SUCH"), ""},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	excs := []engine.Exception{
		{Code: engine.CodeFeedMissing, Feed: "deposit", Counter: "TY0001-02", Detail: "d1"},
		{Code: engine.CodeDepositShort, Feed: "deposit", Counter: "TY0001-02", Detail: "not a reason"},
		{Code: engine.CodeFeedTotalMismatch, Feed: "order", Detail: "d2"},
		{Code: engine.CodeFeedMissing, Feed: "order", Counter: "TY0001-03", Detail: "d3"},
	}
	want := []string{"FEED_TOTAL_MISMATCH 报表合计与明细不符（报表不完整）（业务办理日报）：d2", "FEED_MISSING 报表缺失（解款日报）：d1"}
	if got := zh.Why(excs, "TY0001-02"); !slices.Equal(got, want) {
		t.Errorf("Why = %q, want %q", got, want)
	}
	if got := en.Why(excs, ""); !slices.Equal(got, []string{"FEED_TOTAL_MISMATCH Feed footer disagrees with its rows (truncated export) (order): d2"}) {
		t.Errorf("Why (en, city) = %q", got)
	}
}

// BenchmarkCertified renders one counter's certified report from a stored run of a city of
// 457 outlets × 5 counters: reading the run's tables is most of it.
func BenchmarkCertified(b *testing.B) {
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	cfg := fixtures.NewConfig()
	cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies = 457, 5, 3, 0.5
	out, err := job.Run(context.Background(), job.Config{
		Date: time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai), Source: demo.New(cfg), Store: st,
		Engine: engine.NewConfig(), LockTimeout: time.Minute, FailOn: "never",
	})
	if err != nil {
		b.Fatal(err)
	}
	run, err := store.OpenStored(out.RunDir)
	if err != nil {
		b.Fatal(err)
	}
	sign := report.SignBlock{ClerkName: clerkName, CertifiedAt: certifiedAt}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := report.Certified(run, "TY0001", "TY0001-01", nil, sign, report.NewOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCertifiedDayOpen: a run made before its business day ended is certified with the mark
// its own reports carry ("营业中，数据未截止"): the certified copy must not look final.
func TestCertifiedDayOpen(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := fixtures.NewConfig()
	cfg.Outlets, cfg.Counters, cfg.Seed = 1, 1, 3
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	out, err := job.Run(context.Background(), job.Config{
		Date: date, Source: demo.New(cfg), Store: st, Engine: engine.NewConfig(), Render: job.Reports(report.NewOptions()),
		LockTimeout: time.Minute, FailOn: "never", Now: func() time.Time { return date.Add(10 * time.Hour) },
	})
	if err != nil && out == nil {
		t.Fatalf("run: %v", err)
	}
	run, err := store.OpenStored(out.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	if !run.Manifest().DayOpen {
		t.Fatal("the run of an open day does not say so")
	}
	tables, err := run.ReadTables(memory.NewGoAllocator())
	if err != nil {
		t.Fatal(err)
	}
	c := tables.Settlement[0]
	pdf, err := report.Certified(run, c.Outlet, c.Counter, nil, report.SignBlock{ClerkName: clerkName, CertifiedAt: certifiedAt}, report.NewOptions())
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfToText(t, pdf); !strings.Contains(text, "营业中") {
		t.Errorf("the certified report of an open day has no 营业中 mark:\n%s", text)
	}
}
