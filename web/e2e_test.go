package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"settle/connectors"
	"settle/report"
	"settle/workflow"
)

// need finds a program the test runs for real. In CI (CI=true) a missing one fails the
// test, which .ci/run installs; elsewhere the test is skipped with the reason.
func need(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found: CI must install it (.ci/run)", names[0])
	}
	t.Skipf("%s not found (apt-get install chromium poppler-utils)", names[0])
	return ""
}

// TestBrowser walks the pages in a real headless Chromium: a clerk settles the known day
// with one click, sees its figures, downloads and reads the PDF and certifies; the reviewer
// approves; the day is run again over corrected feeds and the signed report stays; another
// clerk is refused the counter, also by typing its URL; the auditor compares the two runs.
// With SETTLE_E2E_SCREENSHOTS=DIR it saves screenshots of the pages there.
func TestBrowser(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("-short")
	}
	chromium := need(t, "chromium", "chromium-browser", "google-chrome")
	pdftotext := need(t, "pdftotext")
	ts := newTestServer(t, &seqSource{srcs: []connectors.Source{demoSource(0.5), demoSource(0)}})
	ts.cfg.Certified = report.Certified // the real certified report, read back below
	ts.restart(t)
	base := ts.ts.URL
	shots := os.Getenv("SETTLE_E2E_SCREENSHOTS")
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	downloads := t.TempDir()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	run := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		t0 := time.Now()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if d := time.Since(t0); d > 5*time.Second {
			t.Logf("slow step %s: %s", step, d)
		}
	}
	// shot saves the whole page, or only the window when the page is long (the diff).
	shot := func(name string, whole bool) {
		t.Helper()
		if shots == "" {
			return
		}
		take := chromedp.CaptureScreenshot()
		if whole {
			take = chromedp.FullScreenshot(100) // quality 100: PNG
		}
		png, err := chromedp.Run(bctx, take)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	login := func(name string) {
		t.Helper()
		run("log in as "+name,
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(css("#username")),
			chromedp.SendKeys(css("#username"), name),
			chromedp.SendKeys(css("#password"), passwordOf(name)),
			chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(css(`form[action="/logout"]`)),
		)
	}
	logout := func() {
		t.Helper()
		run("log out",
			chromedp.Click(css(`form[action="/logout"] button`)),
			chromedp.WaitVisible(css("#username")),
		)
	}
	// download clicks a link and returns the file the browser saved.
	download := func(sel string) []byte {
		t.Helper()
		dir, err := os.MkdirTemp(downloads, "dl")
		if err != nil {
			t.Fatal(err)
		}
		events := true
		if _, err := chromedp.CallBrowser(bctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events}); err != nil {
			t.Fatalf("download behavior: %v", err)
		}
		run("download "+sel, chromedp.Click(css(sel)))
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".crdownload") {
					continue
				}
				if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && len(b) > 0 {
					return b
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("download %s: no file in %s", sel, dir)
		return nil
	}
	pdfText := func(pdf []byte) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "report.pdf")
		if err := os.WriteFile(p, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, "-layout", p, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		return string(out)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	isPresent := func(id string) bool {
		t.Helper()
		ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById(`+strconv.Quote(id)+`) !== null`))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	dayURL := base + "/day/" + testDate
	counterURL := dayURL + "/c/TY0001/" + shortCounter

	// The clerk: one click settles yesterday; the figures are those of the run's CSV.
	login("zhang")
	if url, _ := chromedp.Run(bctx, chromedp.Location()); url != base+"/queue" {
		t.Errorf("after login: %s, want the clerk's queue", url)
	}
	shot("clerk-queue-empty", true)
	run("day page", chromedp.Navigate(dayURL), chromedp.WaitVisible(css("#run-button")))
	shot("clerk-start", true)
	run("one click",
		chromedp.Click(css("#run-button")),
		chromedp.WaitVisible(css("#net-"+shortCounter)),
	)
	first, ok, err := ts.cfg.Store.Current(testDate)
	if err != nil || !ok {
		t.Fatalf("no current run after the click: %v", err)
	}
	firstID := filepath.Base(first)
	signedNet := counterNet(t, first, shortCounter)
	if got := text("#net-" + shortCounter); got != signedNet {
		t.Errorf("net on the page %q, want %q", got, signedNet)
	}
	short, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`(() => { const td = document.querySelector('#counter-`+shortCounter+` tr.short td.var');
		return td ? [td.textContent.trim(), getComputedStyle(td).color] : []; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(short) != 2 || short[0] != "-189.37" || short[1] != "rgb(198, 40, 40)" {
		t.Errorf("shortfall cell: %q, want -189.37 in red", short)
	}
	if isPresent("counter-" + otherCounter) {
		t.Errorf("the clerk sees counter %s", otherCounter)
	}
	shot("clerk", true)
	signedPDF := download("#dl-pdf-" + shortCounter)
	if txt := pdfText(signedPDF); !strings.Contains(txt, shortCounter) || !strings.Contains(txt, "189.37") {
		t.Errorf("the PDF's text lacks %s or the shortfall:\n%s", shortCounter, txt)
	}
	// Certifying waits for every ERROR to be explained, item by item, with a reason.
	if ok, _ := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById("certify-`+shortCounter+`").disabled`)); !ok {
		t.Errorf("certify is enabled with errors unexplained")
	}
	errs := 0
	var explained []string // the texts given, each to be on the certified report
	for _, it := range counterItems(t, ts, shortCounter) {
		if !it.IsError() {
			continue
		}
		errs++
		reason, txt := reasonFor(it.Code)
		id := strconv.FormatInt(it.ID, 10)
		if txt != "" {
			txt += "-" + id // each item's own text, to be found on the certified paper
		}
		explained = append(explained, txt)
		run("open the counter", chromedp.Navigate(counterURL), chromedp.WaitVisible(css("#item-"+id)))
		if !isPresent("explain-" + id) {
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML(css("#item-"+id)))
			t.Fatalf("no explain form for item %s:\n%s", id, html)
		}
		run("explain "+it.Code,
			chromedp.SetValue(css("#reason-"+id), reason),
			chromedp.SendKeys(css("#text-"+id), txt),
			chromedp.Click(css("#explain-"+id)),
			chromedp.WaitVisible(css(".flash-ok")),
		)
		if got := text("#state-" + id); got != "已说明待审" {
			t.Errorf("item %s after explaining: %q", id, got)
		}
	}
	if errs == 0 {
		t.Fatal("the short counter has no ERROR items")
	}
	if isPresent("ackall-" + shortCounter) {
		run("acknowledge all warnings", chromedp.Click(css("#ackall-"+shortCounter)), chromedp.WaitNotPresent(css("#ackall-"+shortCounter)))
	}
	shot("clerk-explained", true)
	run("certify",
		chromedp.Navigate(counterURL), chromedp.WaitVisible(css("#comment-"+shortCounter)),
		chromedp.SendKeys(css("#comment-"+shortCounter), "现金短款 189.37 元已查明：一笔缴费重复找零，已追回。"),
		chromedp.Click(css("#confirm-"+shortCounter)),
		chromedp.Click(css("#certify-"+shortCounter)),
		chromedp.WaitVisible(css(".flash-ok")),
	)
	if got := text("#counter-" + shortCounter + " .stamp"); got != "营业员已确认，待复核" {
		t.Errorf("stamp after certifying: %q", got)
	}
	// The PDF the counter now serves is the certified report: each explanation on it.
	certTxt := pdfText(download("#dl-pdf-" + shortCounter))
	for _, x := range explained {
		if x != "" && !strings.Contains(certTxt, x) {
			t.Errorf("the certified PDF lacks the explanation %q:\n%s", x, certTxt)
		}
	}
	if !strings.Contains(certTxt, "已说明") || !strings.Contains(certTxt, "营业员已签字") {
		t.Errorf("the certified PDF shows no explained item or no clerk's signature:\n%s", certTxt)
	}
	logout()

	// The reviewer approves.
	login("wang")
	run("reviewer's queue", chromedp.WaitVisible(css("#queue-days")))
	shot("reviewer-queue", true)
	run("reviewer's day", chromedp.Navigate(dayURL), chromedp.WaitVisible(css("#open-"+shortCounter)))
	shot("reviewer-day", true)
	run("open the counter",
		chromedp.Click(css("#open-"+shortCounter)),
		chromedp.WaitVisible(css("#approve-"+shortCounter)),
	)
	shot("reviewer", true)
	for _, it := range counterItems(t, ts, shortCounter) {
		if it.State != "explained" {
			continue
		}
		id := strconv.FormatInt(it.ID, 10)
		run("accept "+it.Code, chromedp.Navigate(counterURL), chromedp.Click(css("#accept-"+id)), chromedp.WaitVisible(css(".flash-ok")))
	}
	run("approve", chromedp.Navigate(counterURL), chromedp.WaitVisible(css("#approve-"+shortCounter)),
		chromedp.Click(css("#approve-"+shortCounter)),
		chromedp.WaitVisible(css(".stamp-approved")),
	)
	signedPDF = download("#dl-pdf-" + shortCounter)
	if txt := pdfText(signedPDF); !strings.Contains(txt, "已接受") || !strings.Contains(txt, "复核已通过") {
		t.Errorf("the approved certified PDF shows no accepted item or no approval:\n%s", txt)
	}

	// The day is run again over corrected feeds; the signed report stays.
	run("rerun",
		chromedp.Navigate(dayURL),
		chromedp.Click(css("#run-button")),
	)
	// The page reloads itself when the run ends and then names the new current run.
	var second string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if second, _, _ = ts.cfg.Store.Current(testDate); second != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rerun published nothing")
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		// Evaluating while the page reloads fails now and then: try again.
		id, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.getElementById("current-run") || {}).textContent || ""`))
		if err == nil && id == filepath.Base(second) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reviewer's page does not show the rerun %s: %q %v", filepath.Base(second), id, err)
		}
	}
	if counterNet(t, second, shortCounter) == signedNet {
		t.Fatal("the rerun has the signed figures: the test needs other ones")
	}
	run("signed counter after the rerun", chromedp.Navigate(counterURL), chromedp.WaitVisible(css(".stamp-approved")))
	if got := text("#counter-" + shortCounter + " .run-id"); got != firstID {
		t.Errorf("run shown after the rerun: %s, want the signed %s", got, firstID)
	}
	if got := text("#net-" + shortCounter); got != signedNet {
		t.Errorf("net after the rerun: %s, want the signed %s", got, signedNet)
	}
	if got := text(".note.warn"); !strings.Contains(got, filepath.Base(second)) {
		t.Errorf("no word of the newer run: %q", got)
	}
	shot("reviewer-after-rerun", true)
	if again := download("#dl-pdf-" + shortCounter); hexSum(again) != hexSum(signedPDF) {
		t.Errorf("the PDF after the rerun is not the signed one")
	}
	logout()

	// Another clerk is refused the counter, also by typing its URL.
	login("li")
	run("li's day", chromedp.Navigate(dayURL), chromedp.WaitVisible(css("#net-"+otherCounter)))
	if isPresent("counter-" + shortCounter) {
		t.Errorf("li sees %s on the day page", shortCounter)
	}
	for _, u := range []string{counterURL, counterURL + "/" + firstID + "/report.pdf"} {
		run("typed "+u, chromedp.Navigate(u), chromedp.WaitVisible(css("h1")))
		if body, got := text("main"), text("h1"); got != "403" || strings.Contains(body, "189.37") {
			t.Errorf("li typing %s: %q, want 403 and no figures", u, got)
		}
	}
	shot("clerk-refused", true)
	logout()

	// The auditor: the city view by age, the trail, and the diff of the two runs.
	login("zhao")
	run("city view", chromedp.WaitVisible(css("#buckets")))
	shot("auditor-items", true)
	// The rerun over corrected feeds raises nothing: every item of the day is resolved.
	if open, _ := ts.wf.Items(context.Background(), workflow.Filter{States: []string{"open", "explained", "rejected"}}); len(open) != 0 || text("#buckets tfoot .grand") != "0 · 0.00" {
		t.Errorf("after the clean rerun: %d items open, the view says %q", len(open), text("#buckets tfoot .grand"))
	}
	if its := counterItems(t, ts, otherCounter); len(its) != 0 {
		t.Errorf("items of %s still raised after the clean rerun: %d", otherCounter, len(its))
	}
	run("trail", chromedp.Navigate(base+"/audit/log"), chromedp.WaitVisible(css("table.list")))
	if got := text("main"); !strings.Contains(got, "说明") || !strings.Contains(got, "认可") || !strings.Contains(got, "登录") {
		t.Errorf("the trail lacks the explanations, acceptances or logins")
	}
	shot("auditor-trail", true)
	run("compare",
		chromedp.Navigate(dayURL),
		chromedp.WaitVisible(css("#compare")),
		chromedp.Click(css("#compare")),
		chromedp.WaitVisible(css("#diff-totals")),
	)
	if got := text("#diff-totals"); !strings.Contains(got, "柜台") {
		t.Errorf("diff totals: %q", got)
	}
	shot("auditor-diff", false)
	run("english", chromedp.Click(css(`a[lang="en"]`)), chromedp.WaitVisible(css(`html[lang="en"] #diff-totals`)))
	if got := text("#diff-totals"); !strings.Contains(got, "counters changed") {
		t.Errorf("diff totals in English: %q", got)
	}
	run("english trail", chromedp.Navigate(base+"/audit/log"), chromedp.WaitVisible(css("table.list")))
	if got := text("h1"); got != "Audit trail" {
		t.Errorf("trail title in English: %q", got)
	}
	shot("auditor-trail-en", false)
	run("english city view", chromedp.Navigate(base+"/audit/items"), chromedp.WaitVisible(css("#buckets")))
	if got := text("h1"); got != "Open items of the city" {
		t.Errorf("city view title in English: %q", got)
	}
	shot("auditor-items-en", true)
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
