package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"

	"settle/period"
	"settle/web/users"
	"settle/workflow"
)

const testPeriod = "2026-11-01_2026-11-30"

// addCityReviewer adds "liu", a reviewer of the whole city, to the server's users and logs a
// client in as liu.
func addCityReviewer(t *testing.T, ts *testServer) *client {
	t.Helper()
	err := users.Update(ts.cfg.UsersFile, func(f *users.File) error {
		return f.Add(users.User{Name: "liu", Display: "刘财务", Role: users.Reviewer, Outlets: []string{users.WholeCity}}, []byte("liu-password"), bcrypt.MinCost, false)
	})
	if err != nil {
		t.Fatal(err)
	}
	c := ts.client(t)
	tok := c.csrf("/login")
	if r := c.post("/login", url.Values{"csrf": {tok}, "username": {"liu"}, "password": {"liu-password"}, "next": {"/"}}); r.status != http.StatusSeeOther {
		t.Fatalf("login liu: %d %s", r.status, r.body)
	}
	return c
}

// buildPeriod builds the month's report from the page as c and waits for it.
func buildPeriod(t *testing.T, ts *testServer, c *client) {
	t.Helper()
	r := c.post("/period/2026-11/build", url.Values{"csrf": {c.csrf("/period/2026-11")}})
	if !strings.HasSuffix(r.header.Get("Location"), "ok=period_build") {
		t.Fatalf("build: %d %q", r.status, r.header.Get("Location"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := ts.WaitRuns(ctx); err != nil {
		t.Fatal(err)
	}
}

// The period page: only a city-wide reviewer or an auditor sees it, only the reviewer acts;
// building the report from the page publishes it with the items' findings; close needs a
// report and a comment, and is an event of the workflow log (as is the reopening), which
// verifies; the period's files download with their manifest sha256 and not once altered.
func TestPeriodPage(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	ts.runNow(t)
	liu := addCityReviewer(t, ts)
	for _, name := range []string{"zhang", "wang"} {
		c := ts.client(t)
		c.login(name)
		if r := c.get("/period/2026-11"); r.status != http.StatusForbidden {
			t.Errorf("%s sees the period page: %d", name, r.status)
		}
	}
	zhao := ts.client(t)
	zhao.login("zhao")
	if r := zhao.get("/period"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/period/2026-10" {
		t.Errorf("GET /period: %d %q, want last month", r.status, r.header.Get("Location"))
	}
	page := liu.get("/period/2026-11")
	if page.status != 200 || !strings.Contains(page.body, `id="period-no-report"`) || !strings.Contains(page.body, `id="nav-period"`) {
		t.Fatalf("period page before a report: %d", page.status)
	}
	tok := liu.csrf("/period/2026-11")
	if r := liu.post("/period/2026-11/close", url.Values{"csrf": {tok}, "comment": {"月结"}}); !strings.HasSuffix(r.header.Get("Location"), "err=period_no_report") {
		t.Errorf("close without a report: %q", r.header.Get("Location"))
	}
	if r := zhao.post("/period/2026-11/build", url.Values{"csrf": {zhao.csrf("/period/2026-11")}}); r.status != http.StatusForbidden {
		t.Errorf("the auditor builds: %d", r.status)
	}
	buildPeriod(t, ts, liu)
	page = liu.get("/period/2026-11")
	dir, ok, err := ts.periodRun(period.Period{From: "2026-11-01", To: "2026-11-30"})
	if err != nil || !ok {
		t.Fatalf("no period report published: %v", err)
	}
	runID := filepath.Base(dir)
	for _, want := range []string{runID, `id="period-findings"`, "PERIOD_NOT_APPROVED", `id="period-unsettled"`, `id="period-items"`, "period_findings.csv", `id="period-close-form"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("period page lacks %q", want)
		}
	}
	if r := zhao.get("/period/2026-11"); r.status != 200 || strings.Contains(r.body, `id="period-close-form"`) || strings.Contains(r.body, `id="period-build"`) {
		t.Errorf("auditor's page: %d, with actions", r.status)
	}
	// A download is the manifest's bytes; an altered file is refused.
	link := "/period/2026-11/file/" + runID + "/period_findings.csv"
	dl := zhao.get(link)
	want, _ := os.ReadFile(filepath.Join(dir, "period_findings.csv"))
	if dl.status != 200 || dl.body != string(want) || dl.header.Get("X-Settle-SHA256") == "" {
		t.Errorf("download: %d %d bytes", dl.status, len(dl.body))
	}
	if r := zhao.get("/period/2026-11/file/" + runID + "/../closed.json"); r.status == 200 {
		t.Errorf("a path out of the run: %d", r.status)
	}

	tok = liu.csrf("/period/2026-11")
	if r := liu.post("/period/2026-11/close", url.Values{"csrf": {tok}, "comment": {"  "}}); !strings.HasSuffix(r.header.Get("Location"), "err=period_comment") {
		t.Errorf("close without a comment: %q", r.header.Get("Location"))
	}
	if _, closed, _ := period.ClosedFor(ts.cfg.Store.Dir(), testDate); closed {
		t.Fatal("closed without a comment")
	}
	if r := liu.post("/period/2026-11/close", url.Values{"csrf": {tok}, "comment": {"十一月月结"}}); !strings.HasSuffix(r.header.Get("Location"), "ok=period_close") {
		t.Fatalf("close: %d %q", r.status, r.header.Get("Location"))
	}
	if name, closed, _ := period.ClosedFor(ts.cfg.Store.Dir(), testDate); !closed || name != testPeriod {
		t.Fatalf("after close: %q %v", name, closed)
	}
	page = liu.get("/period/2026-11")
	if !strings.Contains(page.body, `id="period-reopen-form"`) || strings.Contains(page.body, `id="period-build"`) {
		t.Errorf("closed period's page: no reopen form, or a build button")
	}
	if r := liu.post("/period/2026-11/build", url.Values{"csrf": {liu.csrf("/period/2026-11")}}); !strings.HasSuffix(r.header.Get("Location"), "err=period_is_closed") {
		t.Errorf("build of a closed period: %q", r.header.Get("Location"))
	}
	tok = liu.csrf("/period/2026-11")
	if r := liu.post("/period/2026-11/reopen", url.Values{"csrf": {tok}}); !strings.HasSuffix(r.header.Get("Location"), "err=period_comment") {
		t.Errorf("reopen without a comment: %q", r.header.Get("Location"))
	}
	if r := liu.post("/period/2026-11/reopen", url.Values{"csrf": {tok}, "comment": {"补录冲退"}}); !strings.HasSuffix(r.header.Get("Location"), "ok=period_reopen") {
		t.Fatalf("reopen: %d %q", r.status, r.header.Get("Location"))
	}
	if _, closed, _ := period.ClosedFor(ts.cfg.Store.Dir(), testDate); closed {
		t.Error("still closed after reopen")
	}
	ctx := context.Background()
	evs, err := ts.wf.PeriodEvents(ctx, testPeriod)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].Action != workflow.ActPeriodClose || evs[1].User != "liu" || evs[1].Comment != "十一月月结" || evs[1].RunID != runID ||
		evs[0].Action != workflow.ActPeriodReopen || evs[0].Comment != "补录冲退" {
		t.Errorf("period events: %+v", evs)
	}
	if err := ts.wf.Verify(ctx); err != nil {
		t.Errorf("verify: %v", err)
	}
	// The trail shows both; the page lists them.
	if r := zhao.get("/audit/log?action=" + workflow.ActPeriodClose); r.status != 200 || !strings.Contains(r.body, testPeriod) {
		t.Errorf("trail of closes: %d", r.status)
	}
	if page := liu.get("/period/2026-11"); !strings.Contains(page.body, "十一月月结") || !strings.Contains(page.body, "补录冲退") {
		t.Error("the page's closing record lacks the close or the reopening")
	}
	liu.get("/lang/en?next=/")
	if page := liu.get("/period/2026-11"); !strings.Contains(page.body, "Month-end close 2026-11") || !strings.Contains(page.body, "period reopened") {
		t.Error("the period page in English")
	}
	en := ts.client(t)
	en.get("/lang/en?next=/")
	if r := en.get("/period/2026-11"); r.status != http.StatusSeeOther {
		t.Errorf("anonymous period page: %d", r.status)
	}
}

// While the period is closed the pages refuse every change of its dates, each with 409 and
// the period named: a run, certify, approve, return, reopen, an item's explanation, accept,
// reject, acknowledge, acknowledge-all, and an uploaded explanation (422, the row naming it).
// Nothing is recorded. Reopened, a run starts again.
func TestClosedPeriodRefuses(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	run := ts.runNow(t)
	liu := addCityReviewer(t, ts)
	zhang, wang := ts.client(t), ts.client(t)
	zhang.login("zhang")
	wang.login("wang")
	// The queue's XLSX, downloaded before the close, filled in.
	dl := zhang.get("/queue/export/xlsx")
	f, err := excelize.OpenReader(strings.NewReader(dl.body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("items")
	if len(rows) < 2 {
		t.Fatalf("queue xlsx: %d rows", len(rows))
	}
	reason, text := reasonFor(rows[1][5])
	f.SetCellStr("items", "P2", reason)
	f.SetCellStr("items", "Q2", text)
	var xlsx bytes.Buffer
	f.Write(&xlsx)
	its := counterItems(t, ts, shortCounter)
	var errItem, warnItem *workflow.Item
	for _, it := range its {
		if it.IsError() && errItem == nil {
			errItem = it
		}
		if !it.IsError() && warnItem == nil {
			warnItem = it
		}
	}
	if errItem == nil {
		t.Fatal("no ERROR item on the short counter")
	}

	buildPeriod(t, ts, liu)
	if r := liu.post("/period/2026-11/close", url.Values{"csrf": {liu.csrf("/period/2026-11")}, "comment": {"月结"}}); !strings.HasSuffix(r.header.Get("Location"), "ok=period_close") {
		t.Fatalf("close: %q", r.header.Get("Location"))
	}
	if page := zhang.get(counterPath(testDate, "TY0001", shortCounter)); !strings.Contains(page.body, testPeriod) {
		t.Error("the counter page of a closed date does not say the period is closed")
	}
	before := len(changes(t, ts))
	refused := func(what string, r response) {
		t.Helper()
		if r.status != http.StatusConflict || !strings.Contains(r.body, testPeriod) || !strings.Contains(r.body, testDate) {
			t.Errorf("%s in a closed period: %d, want 409 naming %s", what, r.status, testPeriod)
		}
	}
	dayTok := wang.csrf("/day/" + testDate)
	refused("run", wang.post("/day/"+testDate+"/run", url.Values{"csrf": {dayTok}}))
	refused("certify", signOff(zhang, "certify", shortCounter, run, ""))
	for _, a := range []string{"approve", "return", "reopen"} {
		refused(a, signOff(wang, a, shortCounter, run, "why"))
	}
	itemPost := func(c *client, it *workflow.Item, action string, form url.Values) response {
		form.Set("csrf", c.csrf("/queue"))
		form.Set("version", strconv.FormatInt(it.Version, 10))
		form.Set("back", "/queue")
		return c.post("/item/"+strconv.FormatInt(it.ID, 10)+"/"+action, form)
	}
	r, txt := reasonFor(errItem.Code)
	refused("explain", itemPost(zhang, errItem, "explain", url.Values{"reason": {r}, "text": {txt}}))
	refused("accept", itemPost(wang, errItem, "accept", url.Values{}))
	refused("reject", itemPost(wang, errItem, "reject", url.Values{"comment": {"no"}}))
	if warnItem != nil {
		refused("acknowledge", itemPost(zhang, warnItem, "acknowledge", url.Values{}))
	}
	refused("refresh", zhang.post(counterPath(testDate, "TY0001", shortCounter)+"/refresh", url.Values{"csrf": {zhang.csrf("/queue")}}))
	refused("acknowledge all", zhang.post(counterPath(testDate, "TY0001", shortCounter)+"/ackall", url.Values{"csrf": {zhang.csrf("/queue")}}))
	// The upload: refused naming the row and the period.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", zhang.csrf("/queue"))
	fw, _ := mw.CreateFormFile("file", "queue.xlsx")
	fw.Write(xlsx.Bytes())
	mw.Close()
	req, _ := http.NewRequest("POST", zhang.base+"/queue/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := zhang.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ub, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !regexp.MustCompile(`第 2 行[^<]*`+testPeriod).Match(ub) {
		t.Errorf("upload in a closed period: %d", resp.StatusCode)
	}
	if after := len(changes(t, ts)); after != before {
		t.Errorf("refused changes recorded %d events", after-before)
	}
	// Reopened: the run starts.
	if r := liu.post("/period/2026-11/reopen", url.Values{"csrf": {liu.csrf("/period/2026-11")}, "comment": {"更正"}}); !strings.HasSuffix(r.header.Get("Location"), "ok=period_reopen") {
		t.Fatalf("reopen: %q", r.header.Get("Location"))
	}
	if r := wang.post("/day/"+testDate+"/run", url.Values{"csrf": {wang.csrf("/day/" + testDate)}}); r.status != http.StatusSeeOther {
		t.Errorf("run after reopen: %d", r.status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ts.WaitRuns(ctx)
}
