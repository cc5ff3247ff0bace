package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"time"

	"net/url"
	"settle/connectors"
	"settle/engine"
	"strconv"
	"strings"
	"testing"

	"settle/web/users"
	"settle/workflow"

	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"
)

// TestRejectReexplainApprove is issue 14's check: a clerk explains and certifies, a
// reviewer rejects one item, the clerk sees it first on the home page with its age,
// explains it again (the day still certified), the reviewer accepts and approves, and the
// approved certified report shows the item accepted.
func TestRejectReexplainApprove(t *testing.T) {
	ts, run, clerk, reviewer := certifiedDay(t)
	// The page names the certified report's sum, the one the log pins (not the run's PDF's).
	day, _ := ts.wf.Day(context.Background(), testDate, "TY0001", shortCounter)
	cp := clerk.get("/day/" + testDate + "/c/TY0001/" + shortCounter)
	note := cp.body[strings.Index(cp.body, `class="note pinned"`):]
	note = note[:strings.Index(note, "</p>")]
	if day.CertSHA256 == "" || day.CertSHA256 == day.PDFSHA256 || !strings.Contains(note, shortText(day.CertSHA256, 12)) {
		t.Errorf("pinned note %q, want the certified report's sha256 %s (run's PDF %s)", note, day.CertSHA256, day.PDFSHA256)
	}
	if !strings.Contains(cp.body, `title="`+day.CertSHA256+`"`) || strings.Contains(cp.body, `title="`+day.PDFSHA256+`"`) {
		t.Errorf("the sign-off history does not show the certified report's sha256 %s", day.CertSHA256)
	}
	var target *workflow.Item
	for _, it := range counterItems(t, ts, shortCounter) {
		if it.IsError() && it.State == workflow.StateExplained {
			target = it
			break
		}
	}
	if target == nil {
		t.Fatal("no explained error to reject")
	}
	id := strconv.FormatInt(target.ID, 10)
	decide := func(c *client, action, comment string, ver int64) string {
		return c.post("/item/"+id+"/"+action, url.Values{"csrf": {c.csrf("/queue")}, "version": {strconv.FormatInt(ver, 10)},
			"comment": {comment}, "back": {"/queue"}}).header.Get("Location")
	}
	if loc := decide(reviewer, "reject", " ", target.Version); !strings.HasSuffix(loc, "err=comment_required") {
		t.Errorf("reject without a comment: %q, want err=comment_required", loc)
	}
	if loc := decide(reviewer, "reject", "which slip?", target.Version); !strings.HasSuffix(loc, "ok=reject") {
		t.Fatalf("reject: %q", loc)
	}
	// The clerk's home page: the rejected item first, with its age and a form to explain it.
	q := clerk.get("/queue")
	form := `action="/item/` + id + `/explain"`
	if q.status != 200 || !strings.Contains(q.body, form) {
		t.Fatalf("queue lacks the rejected item's explain form (%d):\n%s", q.status, shortText(q.body, 3000))
	}
	if !strings.Contains(q.body, "which slip?") {
		t.Errorf("queue lacks the rejection's comment")
	}
	row := q.body[:strings.Index(q.body, form)]
	row = row[strings.LastIndex(row, "<tr"):]
	if !strings.Contains(row, "1 天") {
		t.Errorf("the rejected item's row lacks its age (1 天):\n%s", row)
	}
	if i := strings.Index(q.body, `/explain"`); i != strings.Index(q.body, form)+len(form)-len(`/explain"`) {
		t.Errorf("the rejected item is not the first of the queue:\n%s", q.body[i-300:i+100])
	}
	got, _ := ts.wf.Item(context.Background(), target.ID)
	reason, text := reasonFor(got.Code)
	r := clerk.post("/item/"+id+"/explain", url.Values{"csrf": {clerk.csrf("/queue")}, "version": {strconv.FormatInt(got.Version, 10)},
		"reason": {reason}, "text": {text + " again"}, "back": {"/queue"}})
	if !strings.HasSuffix(r.header.Get("Location"), "ok=explain") {
		t.Fatalf("re-explain a rejected item of a certified day: %q", r.header.Get("Location"))
	}
	day, _ = ts.wf.Day(context.Background(), testDate, "TY0001", shortCounter)
	if day.Status != workflow.StatusCertified || day.RunID != run {
		t.Errorf("after re-explaining: %s %s, want certified %s", day.Status, day.RunID, run)
	}
	got, _ = ts.wf.Item(context.Background(), target.ID)
	if loc := decide(reviewer, "accept", "ok", got.Version); !strings.HasSuffix(loc, "ok=accept") {
		t.Fatalf("accept: %q", loc)
	}
	decideAll(t, ts, reviewer, shortCounter, "accept")
	if r := signOff(reviewer, "approve", shortCounter, run, ""); !strings.HasSuffix(r.header.Get("Location"), "ok=approve") {
		t.Fatalf("approve: %q", r.header.Get("Location"))
	}
	pdf := clerk.get("/day/" + testDate + "/c/TY0001/" + shortCounter + "/" + run + "/report.pdf")
	var line string
	for _, l := range strings.Split(pdf.body, "\n") {
		if strings.Contains(l, text+" again") {
			line = l
		}
	}
	if !strings.Contains(line, " accepted|") || !strings.Contains(pdf.body, "reviewer 王复核 ") {
		t.Errorf("approved certified report: the item's line %q, want it accepted:\n%s", line, pdf.body)
	}
}

// TestNoRollupCounter: a run rendered with reports has the outlets' roll-ups
// (reports/<outlet>/outlet.pdf); they are not counters on the pages.
func TestNoRollupCounter(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	run := ts.runNow(t)
	dir, ok, err := ts.cfg.Store.Current(testDate)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	rd, err := loadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rd.Manifest.Outputs["reports/TY0001/outlet.pdf"]; !ok {
		t.Fatalf("the run has no outlet roll-up to test with")
	}
	want := map[string]bool{}
	for _, l := range rd.byID {
		for _, s := range l.Settlement {
			want[s.Counter] = true
		}
	}
	for id := range rd.byID {
		if !want[id] {
			t.Errorf("counter %q of run %s has no settlement lines (a roll-up read as a counter?)", id, run)
		}
	}
	reviewer := ts.client(t)
	reviewer.login("wang")
	if p := reviewer.get("/day/" + testDate); strings.Contains(p.body, "/c/TY0001/outlet") {
		t.Errorf("the day page lists a counter named outlet")
	}
}

// badOutletSource is the known day with one local payment of TY0002-02 carrying the
// outlet id "../etc": a MALFORMED_ROW whose counter is valid and whose outlet is not.
type badOutletSource struct{ connectors.Source }

func (s badOutletSource) Fetch(ctx context.Context, date time.Time, p connectors.Progress) (*connectors.Day, error) {
	d, err := s.Source.Fetch(ctx, date, p)
	if err != nil {
		return nil, err
	}
	for i, in := range d.Inputs {
		if in.Name != "local_payment.csv" {
			continue
		}
		open := in.Open
		d.Inputs[i].Open = func() (io.ReadCloser, error) {
			r, err := open()
			if err != nil {
				return nil, err
			}
			defer r.Close()
			b, err := io.ReadAll(r)
			if err != nil {
				return nil, err
			}
			b = bytes.Replace(b, []byte(",TY,TY0002,TY0002-02,"), []byte(",TY,../etc,TY0002-02,"), 1)
			return io.NopCloser(bytes.NewReader(b)), nil
		}
	}
	return d, nil
}

// TestBadOutletFindingIsTheCounters: a finding whose counter is valid and whose outlet is
// malformed is the counter's item (under the counter's outlet), as the counter's reports
// count it: the counter's items are its findings, one for one.
func TestBadOutletFindingIsTheCounters(t *testing.T) {
	ts := newTestServer(t, badOutletSource{demoSource(0.5)})
	ts.runNow(t)
	dir, _, _ := ts.cfg.Store.Current(testDate)
	rd, err := loadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := rd.byID["TY0002-02"]
	var bad *engine.Exception
	for i, e := range c.Exceptions {
		if e.Code == engine.CodeMalformedRow && e.Outlet == "../etc" {
			bad = &c.Exceptions[i]
		}
	}
	if bad == nil {
		t.Fatalf("the run has no MALFORMED_ROW of outlet ../etc for TY0002-02")
	}
	ts.synced(context.Background(), testDate)
	its, err := ts.wf.Items(context.Background(), workflow.Filter{From: testDate, To: testDate, PresentOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range its {
		if it.Code == string(engine.CodeMalformedRow) && it.TxnID == bad.TxnID && it.Source == bad.Source {
			if it.Counter != "TY0002-02" || it.Outlet != "TY0002" {
				t.Errorf("the malformed row's item is at %q/%q, want TY0002/TY0002-02", it.Outlet, it.Counter)
			}
		}
		if it.Counter == "TY0002-02" {
			n++
		}
	}
	cityWide := 0
	for _, e := range c.Exceptions {
		if e.Counter == "" {
			cityWide++
		}
	}
	if n != len(c.Exceptions)-cityWide {
		t.Errorf("TY0002-02 has %d items, its reports %d findings of its own", n, len(c.Exceptions)-cityWide)
	}
	// The certified report finds every item of the counter among the run's findings.
	found := workflow.Findings(c.Exceptions, "TY0002", "TY0002-02")
	if len(found) != n {
		t.Errorf("Findings: %d, items %d", len(found), n)
	}
}

// userChanges are the trail's user_change comments, oldest first.
func userChanges(t *testing.T, ts *testServer) []string {
	t.Helper()
	evs, err := ts.wf.Events(context.Background(), workflow.EventFilter{Action: workflow.ActUserChange})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Comment)
	}
	return out
}

// TestUserChangesWhileDown: users present at the first start, and users added, changed or
// removed while the server is down, reach the trail when it starts; a change while it runs
// when it reads the file again; each once.
func TestUserChangesWhileDown(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	got := userChanges(t, ts)
	if len(got) != len(testUsers) || !slices.Contains(got, "zhang added: role clerk counters "+shortCounter+" outlets ") {
		t.Fatalf("first start: %q, want every test user added", got)
	}
	edit := func(fn func(f *users.File)) {
		t.Helper()
		f, err := users.Load(ts.cfg.UsersFile)
		if err != nil {
			t.Fatal(err)
		}
		fn(f)
		if err := f.Save(ts.cfg.UsersFile); err != nil {
			t.Fatal(err)
		}
		// A later modification time, whatever the clock's resolution.
		later := time.Now().Add(time.Duration(len(userChanges(t, ts))+1) * time.Minute)
		os.Chtimes(ts.cfg.UsersFile, later, later)
	}
	// While "down" (the next start reads the file first).
	edit(func(f *users.File) {
		if err := f.Add(users.User{Name: "sun", Role: users.Reviewer, Outlets: []string{"TY0002"}}, []byte("sun-password"), bcrypt.MinCost, false); err != nil {
			t.Fatal(err)
		}
		u, _ := f.Get("li")
		u.Counters = []string{shortCounter}
		f.Users = slices.DeleteFunc(f.Users, func(u users.User) bool { return u.Name == "chen" })
	})
	ts.restart(t)
	got = userChanges(t, ts)[len(testUsers):]
	want := []string{"li changed: role clerk counters " + shortCounter + " outlets ", "sun added: role reviewer counters  outlets TY0002", "chen removed"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("after a start: %q, want %q", got, want)
	}
	// Started again with no change: nothing new.
	ts.restart(t)
	if n := len(userChanges(t, ts)); n != len(testUsers)+3 {
		t.Errorf("a start without changes recorded %d events", n-len(testUsers)-3)
	}
	// While running: the next reading of the file records it, once.
	edit(func(f *users.File) {
		u, _ := f.Get("zhao")
		u.Display = "赵审计"
	})
	c := ts.client(t)
	c.login("wang")
	ts.restart(t)
	if got := userChanges(t, ts); len(got) != len(testUsers)+4 || got[len(got)-1] != "zhao display name changed" {
		t.Errorf("a change while running: %q", got[len(testUsers)+3:])
	}
}

// TestUploadNamesStateByLabel: an uploaded row whose item is not open or rejected is named
// with the state's label (已说明待审), not its code.
func TestUploadNamesStateByLabel(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	ts.runNow(t)
	clerk, wang := ts.client(t), ts.client(t)
	clerk.login("zhang")
	wang.login("wang")
	explainAll(t, ts, clerk, shortCounter)
	dl := wang.get("/queue/export/xlsx")
	f, err := excelize.OpenReader(strings.NewReader(dl.body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("items")
	n := 0
	for i, row := range rows[1:] {
		if row[12] != workflow.StateExplained {
			continue
		}
		reason, text := reasonFor(row[5])
		a, _ := excelize.CoordinatesToCellName(16, i+2)
		b, _ := excelize.CoordinatesToCellName(17, i+2)
		f.SetCellStr("items", a, reason)
		f.SetCellStr("items", b, text)
		n++
	}
	if n == 0 {
		t.Fatal("the reviewer's queue has no explained item")
	}
	var file bytes.Buffer
	f.Write(&file)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", wang.csrf("/queue"))
	fw, _ := mw.CreateFormFile("file", "queue.xlsx")
	fw.Write(file.Bytes())
	mw.Close()
	req, _ := http.NewRequest("POST", wang.base+"/queue/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := wang.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), "当前状态（已说明待审）") || strings.Contains(string(b), "（explained）") {
		t.Errorf("upload of explained items: %d, want each row named with the state's label", resp.StatusCode)
	}
}

// TestReviewerDoesNotDecideOwnExplanation: a reviewer explains an item for a clerk; the
// page offers them no accept or reject for it, and a post is refused with the reason.
func TestReviewerDoesNotDecideOwnExplanation(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	ts.runNow(t)
	wang := ts.client(t)
	wang.login("wang")
	var it *workflow.Item
	for _, x := range counterItems(t, ts, shortCounter) {
		if x.IsError() {
			it = x
			break
		}
	}
	id := strconv.FormatInt(it.ID, 10)
	reason, text := reasonFor(it.Code)
	r := wang.post("/item/"+id+"/explain", url.Values{"csrf": {wang.csrf("/queue")}, "version": {strconv.FormatInt(it.Version, 10)},
		"reason": {reason}, "text": {text}, "back": {"/queue"}})
	if !strings.HasSuffix(r.header.Get("Location"), "ok=explain") {
		t.Fatalf("a reviewer explains: %q", r.header.Get("Location"))
	}
	page := wang.get("/day/" + testDate + "/c/TY0001/" + shortCounter)
	if strings.Contains(page.body, `action="/item/`+id+`/accept"`) {
		t.Errorf("the page offers the reviewer to accept their own explanation")
	}
	r = wang.post("/item/"+id+"/accept", url.Values{"csrf": {wang.csrf("/queue")}, "version": {strconv.FormatInt(it.Version+1, 10)}, "back": {"/queue"}})
	loc := r.header.Get("Location")
	if !strings.HasSuffix(loc, "err=own_explanation") {
		t.Fatalf("a reviewer accepts their own explanation: %q", loc)
	}
	if q := wang.get(loc); !strings.Contains(q.body, "须由另一位复核人认可或驳回") {
		t.Errorf("the refusal does not say why")
	}
	if got, _ := ts.wf.Item(context.Background(), it.ID); got.State != workflow.StateExplained {
		t.Errorf("after the refused accept: %s", got.State)
	}
}
