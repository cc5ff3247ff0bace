package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"

	"settle/report"
	"settle/store"
	"settle/web/users"
	"settle/workflow"
)

// fakeCertified is a deterministic certified report: the run's id and PDF sum, then one
// line per item and the sign block.
func fakeCertified(run *store.Stored, outlet, counter string, items []CertItem, sign SignBlock, opts report.Options) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "CERTIFIED %s %s/%s lang=%s\n", run.Manifest().RunID, outlet, counter, opts.Lang)
	for _, it := range items {
		fmt.Fprintf(&b, "%s %s %s %s|%s|%s|%s|%s|%s\n", it.Code, it.TxnID, it.Detail, it.State, it.ReasonLabel, it.Text, it.ByName, it.At.UTC().Format(time.RFC3339Nano), it.Comment)
	}
	fmt.Fprintf(&b, "clerk %s %s reviewer %s %s\n", sign.ClerkName, sign.CertifiedAt.UTC().Format(time.RFC3339Nano), sign.ReviewerName, sign.ApprovedAt.UTC().Format(time.RFC3339Nano))
	return b.Bytes(), nil
}

// TestCertifiedReport: certifying renders the certified report with each item's
// explanation; the log pins its sha256, the counter's PDF download serves it, and rendered
// again from the run and the log alone (the file gone) it is the same bytes. Approval pins
// a new one with the reviewer's name.
func TestCertifiedReport(t *testing.T) {
	ts, run, clerk, reviewer := certifiedDay(t)
	ctx := context.Background()
	day, _ := ts.wf.Day(ctx, testDate, "TY0001", shortCounter)
	page := "/day/" + testDate + "/c/TY0001/" + shortCounter
	pdf := clerk.get(page + "/" + run + "/report.pdf")
	if pdf.status != 200 || sha(pdf.body) != day.CertSHA256 || !strings.HasPrefix(pdf.body, "CERTIFIED "+run) {
		t.Fatalf("certified pdf: %d %q", pdf.status, shortText(pdf.body, 200))
	}
	for _, want := range []string{"DEPOSIT_SHORT", "营业员已补款|NO-", "张三", "clerk 张三 2026-11-22T01:30:00Z"} {
		if !strings.Contains(pdf.body, want) {
			t.Errorf("certified report lacks %q:\n%s", want, pdf.body)
		}
	}
	evs, _ := ts.wf.DayEvents(ctx, testDate, "TY0001", shortCounter)
	if len(evs) != 1 || evs[0].CertSHA256 != sha(pdf.body) || len(evs[0].Snapshot) == 0 {
		t.Fatalf("certify event: %+v", evs)
	}
	// The file gone: rendered again from the run and the log, byte for byte.
	os.Remove(filepath.Join(ts.cfg.Store.Dir(), filepath.FromSlash(day.CertFile)))
	if again := clerk.get(page + "/" + run + "/report.pdf"); again.status != 200 || again.body != pdf.body {
		t.Errorf("re-rendered certified report differs: %d", again.status)
	}
	// Altered on disk: refused.
	os.WriteFile(filepath.Join(ts.cfg.Store.Dir(), filepath.FromSlash(day.CertFile)), []byte("forged"), 0o640)
	if r := clerk.get(page + "/" + run + "/report.pdf"); r.status != http.StatusInternalServerError {
		t.Errorf("forged certified report: %d", r.status)
	}
	os.WriteFile(filepath.Join(ts.cfg.Store.Dir(), filepath.FromSlash(day.CertFile)), []byte(pdf.body), 0o640)
	decideAll(t, ts, reviewer, shortCounter, "accept")
	if r := signOff(reviewer, "approve", shortCounter, run, ""); !strings.HasSuffix(r.header.Get("Location"), "ok=approve") {
		t.Fatalf("approve: %q", r.header.Get("Location"))
	}
	approved := clerk.get(page + "/" + run + "/report.pdf")
	if !strings.Contains(approved.body, "reviewer 王复核 ") || !strings.Contains(approved.body, "|accepted") && !strings.Contains(approved.body, " accepted|") {
		t.Errorf("approved report:\n%s", approved.body)
	}
	day, _ = ts.wf.Day(ctx, testDate, "TY0001", shortCounter)
	os.Remove(filepath.Join(ts.cfg.Store.Dir(), filepath.FromSlash(day.CertFile)))
	if again := clerk.get(page + "/" + run + "/report.pdf"); again.body != approved.body || sha(again.body) != day.CertSHA256 {
		t.Errorf("re-rendered approved report differs")
	}
}

// TestConcurrentEdit: two people explain one item from the same page; the second is told
// to reload and the first's explanation stands.
func TestConcurrentEdit(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	ts.runNow(t)
	a, b := ts.client(t), ts.client(t)
	a.login("zhang")
	b.login("wang")
	it := counterItems(t, ts, shortCounter)[0]
	post := func(c *client, text string) string {
		reason, _ := reasonFor(it.Code)
		r := c.post("/item/"+strconv.FormatInt(it.ID, 10)+"/explain", url.Values{"csrf": {c.csrf("/queue")},
			"version": {strconv.FormatInt(it.Version, 10)}, "reason": {reason}, "text": {text}, "back": {"/queue"}})
		return r.header.Get("Location")
	}
	if loc := post(a, "NO-1 first"); !strings.HasSuffix(loc, "ok=explain") {
		t.Fatalf("first: %q", loc)
	}
	if loc := post(b, "NO-2 second"); !strings.HasSuffix(loc, "err=reload") {
		t.Errorf("second with the old version: %q, want err=reload", loc)
	}
	got, _ := ts.wf.Item(context.Background(), it.ID)
	if got.Text != "NO-1 first" || got.By != "zhang" {
		t.Errorf("item after both: %+v", got)
	}
	// Another clerk's item is out of scope.
	li := ts.client(t)
	li.login("li")
	r := li.post("/item/"+strconv.FormatInt(it.ID, 10)+"/explain", url.Values{"csrf": {li.csrf("/queue")}, "version": {"9"}, "reason": {"OTHER"}, "text": {"x"}})
	if r.status != http.StatusForbidden {
		t.Errorf("li explains zhang's item: %d", r.status)
	}
}

// TestUpload: the queue's XLSX comes back with reasons filled in; one bad row refuses the
// file naming every bad row, and nothing is applied; a good file applies every row.
func TestUpload(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	ts.runNow(t)
	c := ts.client(t)
	c.login("zhang")
	dl := c.get("/queue/export/xlsx")
	if dl.status != 200 {
		t.Fatalf("download: %d", dl.status)
	}
	f, err := excelize.OpenReader(strings.NewReader(dl.body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("items")
	if len(rows) < 4 {
		t.Fatalf("queue xlsx: %d rows", len(rows))
	}
	fill := func(bad map[int]string) []byte {
		for i, row := range rows[1:] {
			n := i + 2
			reason, text := reasonFor(row[5])
			if v, ok := bad[n]; ok {
				reason = v
			}
			a, _ := excelize.CoordinatesToCellName(16, n)
			b, _ := excelize.CoordinatesToCellName(17, n)
			f.SetCellStr("items", a, reason)
			f.SetCellStr("items", b, text)
		}
		var buf bytes.Buffer
		f.Write(&buf)
		return buf.Bytes()
	}
	upload := func(data []byte) response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("csrf", c.csrf("/queue"))
		fw, _ := mw.CreateFormFile("file", "queue.xlsx")
		fw.Write(data)
		mw.Close()
		req, _ := http.NewRequest("POST", c.base+"/queue/upload", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{resp.StatusCode, resp.Header, string(b)}
	}
	r := upload(fill(map[int]string{2: "NOT_A_REASON", 4: "TURNED_IN_NOPE"}))
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "第 2 行") || !strings.Contains(r.body, "第 4 行") {
		t.Errorf("bad upload: %d", r.status)
	}
	if evs := changes(t, ts); len(evs) != 0 {
		t.Errorf("a refused upload applied %d changes", len(evs))
	}
	r = upload(fill(nil))
	if r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "ok=upload") {
		t.Fatalf("good upload: %d %q", r.status, r.header.Get("Location"))
	}
	if evs := changes(t, ts); len(evs) != len(rows)-1 {
		t.Errorf("good upload: %d changes, want %d", len(evs), len(rows)-1)
	}
	// The same file again: every row's version is stale now.
	if r := upload(fill(nil)); r.status != http.StatusUnprocessableEntity {
		t.Errorf("stale upload: %d", r.status)
	}
}

// TestDayNotOver: today's business day shows "营业中，数据未截止" and cannot be certified.
func TestDayNotOver(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	ts.cfg.Now = func() time.Time { return testNow.AddDate(0, 0, -1) } // the morning of testDate
	ts.restart(t)
	run := ts.runNow(t)
	c := ts.client(t)
	c.login("zhang")
	page := c.get("/day/" + testDate + "/c/TY0001/" + shortCounter)
	if !strings.Contains(page.body, "营业中，数据未截止") || strings.Contains(page.body, `action="/day/`+testDate+`/c/TY0001/`+shortCounter+`/certify"`) {
		t.Errorf("today's counter page: no notice, or a certify form")
	}
	explainAll(t, ts, c, shortCounter)
	if r := signOff(c, "certify", shortCounter, run, ""); !strings.Contains(r.header.Get("Location"), "err=") {
		t.Errorf("certify today: %q", r.header.Get("Location"))
	}
	if d, _ := ts.wf.Day(context.Background(), testDate, "TY0001", shortCounter); d.Status != workflow.StatusOpen {
		t.Errorf("today certified: %s", d.Status)
	}
}

var _ = hex.EncodeToString
var _ = sha256.Sum256

// TestUserChangeInTrail: a user added to the users file while the server runs is an event
// of the trail.
func TestUserChangeInTrail(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	c := ts.client(t)
	c.login("zhao")
	f, _ := users.Load(ts.cfg.UsersFile)
	if err := f.Add(users.User{Name: "sun", Role: users.Clerk, Counters: []string{"TY0002-01"}}, []byte("sun-password"), bcrypt.MinCost, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // another modification time
	if err := f.Save(ts.cfg.UsersFile); err != nil {
		t.Fatal(err)
	}
	page := c.get("/audit/log?action=user_change")
	if !strings.Contains(page.body, "sun added: role clerk counters TY0002-01") {
		t.Errorf("the trail does not show the new user")
	}
}

// TestScopeOfItems: findings of no counter belong to their outlet's reviewers and to the
// reviewers of the whole city; the city's (no outlet) to the latter only: never to nobody.
func TestScopeOfItems(t *testing.T) {
	s := &Server{}
	clerk := &users.User{Name: "c", Role: users.Clerk, Counters: []string{"TY0001-01"}}
	outletRev := &users.User{Name: "r", Role: users.Reviewer, Outlets: []string{"TY0001"}}
	city := &users.User{Name: "w", Role: users.Reviewer, Outlets: []string{users.WholeCity}}
	if err := city.Validate(); err == nil || !strings.Contains(err.Error(), "password_bcrypt") {
		t.Errorf("a whole-city reviewer's scope is refused: %v", err)
	}
	for _, c := range []struct {
		outlet, counter       string
		clerk, outRev, cityRv bool
	}{
		{"TY0001", "TY0001-01", true, true, true},
		{"TY0001", "", false, true, true},
		{"", "", false, false, true},
		{"TY0002", "TY0002-01", false, false, true},
	} {
		it := &workflow.Item{Outlet: c.outlet, Counter: c.counter}
		if got := [3]bool{s.mayActOn(clerk, it), s.mayActOn(outletRev, it), s.mayActOn(city, it)}; got != [3]bool{c.clerk, c.outRev, c.cityRv} {
			t.Errorf("item of %q/%q: clerk, outlet reviewer, city reviewer %v", c.outlet, c.counter, got)
		}
	}
	bad := &users.User{Name: "x", Role: users.Reviewer, Outlets: []string{"*", "TY0001"}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `outlet "*"`) {
		t.Errorf("'*' beside an outlet: %v", err)
	}
}
