package web

import (
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"settle/diff"
)

// TestGroupedRows: the diff page shows amounts with thousands separators and leaves counts
// and texts alone.
func TestGroupedRows(t *testing.T) {
	rows := groupedRows([]diff.Row{
		{Field: "net", Old: "1234.50", New: "-12345.60", Delta: "-13580.10"},
		{Field: "txn_count", Old: "1200", New: "1300", Delta: "100"},
		{Field: "detail", Old: "short 1234.50", New: "short 2234.50"},
	})
	want := [][3]string{{"1,234.50", "-12,345.60", "-13,580.10"}, {"1200", "1300", "100"}, {"short 1234.50", "short 2234.50", ""}}
	for i, r := range rows {
		if got := [3]string{r.Old, r.New, r.Delta}; got != want[i] {
			t.Errorf("row %d: %q, want %q", i, got, want[i])
		}
	}
}

// TestReviewerListShowsWarningsAndRunIDs: the reviewer's list of the day's counters has a
// warnings column beside the errors and each row's whole run id, and its money has
// thousands separators; a queue's counter-days name their run.
func TestReviewerListShowsWarningsAndRunIDs(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	id := ts.runNow(t)
	c := ts.client(t)
	c.login("wang")
	page := c.get("/day/" + testDate).body
	rd, err := ts.current(testDate)
	if err != nil || rd == nil {
		t.Fatal(err)
	}
	for _, counter := range []string{shortCounter, otherCounter} {
		cd := rd.byID[counter]
		row := regexp.MustCompile(`(?s)id="open-` + counter + `".*?</tr>`).FindString(page)
		if row == "" {
			t.Fatalf("no row for %s", counter)
		}
		if !strings.Contains(row, `data-label="警告">`) || !strings.Contains(row, `id="run-`+counter+`">`+id+`</code>`) {
			t.Errorf("%s's row lacks the warnings or its run id %s:\n%s", counter, id, row)
		}
		warn := regexp.MustCompile(`data-label="警告">(?:<span class="warn">)?(\d+)`).FindStringSubmatch(row)
		if warn == nil || warn[1] != strconv.Itoa(cd.Warnings) {
			t.Errorf("%s: warnings %v on the page, %d in the run", counter, warn, cd.Warnings)
		}
		if cd.Net >= 100000 && !strings.Contains(row, ",") {
			t.Errorf("%s: net %d fen without a thousands separator:\n%s", counter, cd.Net, row)
		}
	}
	clerk := ts.client(t)
	clerk.login("zhang")
	q := clerk.get("/queue").body
	days := regexp.MustCompile(`(?s)id="queue-days".*?</table>`).FindString(q)
	if !strings.Contains(days, `<code class="run-id">`+id+`</code>`) || !strings.Contains(days, `data-label="未知悉提示"`) {
		t.Errorf("the queue's counter-days lack the run %s or the warnings:\n%s", id, days)
	}
}

// TestCounterPageShowsRefreshProgress: while a refresh of the date runs, the counter page
// shows which counter is refreshed and the progress card the script polls (it reloads the
// page when the run ends), and no refresh button.
func TestCounterPageShowsRefreshProgress(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	p := progress{Running: true, Stage: "fetch", Done: 3, Total: 9}
	u := testUsers[0].u
	d := counterPage{base: base{L: langs["zh"], User: &u, CSRF: "x", Date: testDate}, V: &counterView{Date: testDate, Base: "/day/" + testDate + "/c/TY0001/" + shortCounter},
		Progress: &p, StageText: "fetch 3/9", StatusURL: "/day/" + testDate + "/status", Refreshing: shortCounter,
		Refresh: refreshInfo{Can: true, Running: true}}
	rec := httptest.NewRecorder()
	ts.render(rec, 200, "counter", d)
	body := rec.Body.String()
	for _, want := range []string{`id="refreshing"`, "正在刷新柜台 " + shortCounter, `id="progress" data-status="/day/` + testDate + `/status"`, `http-equiv="refresh"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="refresh-button"`) {
		t.Error("the refresh button shows while a run is going on")
	}
}
