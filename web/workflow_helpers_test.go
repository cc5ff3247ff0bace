package web

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"settle/workflow"
)

// changes are the log's events other than logins, runs started and user changes (the test
// users are recorded as added at the first start): what a refused action must not have
// recorded.
func changes(t *testing.T, ts *testServer) []workflow.Event {
	t.Helper()
	evs, err := ts.wf.Events(context.Background(), workflow.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []workflow.Event
	for _, e := range evs {
		switch e.Action {
		case workflow.ActLogin, workflow.ActLoginFailed, workflow.ActLockout, workflow.ActRun, workflow.ActUserChange:
			continue
		}
		out = append(out, e)
	}
	return out
}

// counterItems are the present items of a counter of the test day.
func counterItems(t *testing.T, ts *testServer, counter string) []*workflow.Item {
	t.Helper()
	ts.synced(context.Background(), testDate)
	its, err := ts.wf.Items(context.Background(), workflow.Filter{From: testDate, To: testDate, Counter: counter})
	if err != nil {
		t.Fatal(err)
	}
	var out []*workflow.Item
	for _, it := range its {
		if it.Present {
			out = append(out, it)
		}
	}
	return out
}

// reasonFor is a valid reason and text for an item's code.
func reasonFor(code string) (string, string) {
	r := workflow.ReasonsFor(code)[0]
	text := ""
	switch r.NeedText {
	case "slip", "ticket", "form":
		text = "NO-" + strconv.Itoa(len(code)) + "7"
	case "text":
		text = "handled at the counter"
	}
	return r.Code, text
}

// explainAll explains every open or rejected ERROR of the counter through the pages, as c.
func explainAll(t *testing.T, ts *testServer, c *client, counter string) {
	t.Helper()
	tok := c.csrf("/queue")
	for _, it := range counterItems(t, ts, counter) {
		if !it.IsError() || (it.State != workflow.StateOpen && it.State != workflow.StateRejected) {
			continue
		}
		reason, text := reasonFor(it.Code)
		r := c.post("/item/"+strconv.FormatInt(it.ID, 10)+"/explain", url.Values{"csrf": {tok}, "version": {strconv.FormatInt(it.Version, 10)},
			"reason": {reason}, "text": {text}, "back": {"/queue"}})
		if !strings.HasSuffix(r.header.Get("Location"), "ok=explain") {
			t.Fatalf("explain item %d (%s): %d %q", it.ID, it.Code, r.status, r.header.Get("Location"))
		}
	}
}

// decideAll accepts (or rejects) every explained item of the counter, as reviewer c.
func decideAll(t *testing.T, ts *testServer, c *client, counter, action string) {
	t.Helper()
	tok := c.csrf("/queue")
	for _, it := range counterItems(t, ts, counter) {
		if it.State != workflow.StateExplained {
			continue
		}
		r := c.post("/item/"+strconv.FormatInt(it.ID, 10)+"/"+action, url.Values{"csrf": {tok}, "version": {strconv.FormatInt(it.Version, 10)},
			"comment": {"checked"}, "back": {"/queue"}})
		if !strings.HasSuffix(r.header.Get("Location"), "ok="+action) {
			t.Fatalf("%s item %d: %d %q", action, it.ID, r.status, r.header.Get("Location"))
		}
	}
}

// certifiedDay serves a demo day whose certified reports are fakeCertified's; clerk zhang has
// explained every item of shortCounter and certified it, reviewer wang is logged in.
func certifiedDay(t *testing.T) (ts *testServer, run string, clerk, reviewer *client) {
	t.Helper()
	ts = newTestServer(t, demoSource(0.5))
	ts.cfg.Certified = fakeCertified
	ts.restart(t)
	run = ts.runNow(t)
	clerk, reviewer = ts.client(t), ts.client(t)
	clerk.login("zhang")
	reviewer.login("wang")
	explainAll(t, ts, clerk, shortCounter)
	if r := signOff(clerk, "certify", shortCounter, run, ""); !strings.HasSuffix(r.header.Get("Location"), "ok=certify") {
		t.Fatalf("certify: %q", r.header.Get("Location"))
	}
	return ts, run, clerk, reviewer
}
