package web

import (
	"strings"
	"testing"

	"settle/job"
)

// TestCertifyWithoutReports: a run made without reports (--formats ”) has no paper to pin:
// certifying it is refused with a message saying so, not a server error, and nothing is
// signed.
func TestCertifyWithoutReports(t *testing.T) {
	ts := newTestServer(t, demoSource(0))
	// The run is made outside the page, as `settle run --formats ''` would.
	cfg := ts.cfg.Job
	cfg.Store, cfg.Render = ts.cfg.Store, nil
	cfg.Date, _ = parseDate(testDate)
	out, err := job.Run(t.Context(), cfg)
	if out == nil {
		t.Fatal(err)
	}
	run := out.RunID
	clerk := ts.client(t)
	clerk.login("zhang")
	explainAll(t, ts, clerk, shortCounter)
	r := signOff(clerk, "certify", shortCounter, run, "")
	if r.status >= 500 || !strings.HasSuffix(r.header.Get("Location"), "err=no_reports") {
		t.Fatalf("certify a run without reports: %d %q, want a redirect with err=no_reports", r.status, r.header.Get("Location"))
	}
	page := clerk.get("/day/" + testDate + "/c/TY0001/" + shortCounter + "?err=no_reports")
	if !strings.Contains(page.body, "没有生成该柜台的报表") {
		t.Errorf("the page does not say why")
	}
	if st, err := ts.wf.Day(t.Context(), testDate, "TY0001", shortCounter); err != nil || st.Pinned() {
		t.Errorf("signed without reports: %+v %v", st, err)
	}
}
