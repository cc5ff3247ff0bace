package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"settle/web/signoff"
)

// restart starts a new Server over the same store, users file and keys, as `settle serve`
// started again would, and points the clients at it (their cookies stay). The old Server is
// left to the test's clean-up.
func (ts *testServer) restart(t *testing.T, clients ...*client) {
	t.Helper()
	s, err := New(ts.cfg)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	ts.Server, ts.ts = s, hs
	for _, c := range clients {
		c.base = hs.URL
	}
}

// TestTornSignoffLog: a sign-off cut short by a full disk leaves half a line in the log. The
// server starts again all the same, the next sign-off goes through, and the auditor's log
// page shows the repair.
func TestTornSignoffLog(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	run := ts.runNow(t)
	clerk := ts.client(t)
	clerk.login("zhang")
	if r := signOff(clerk, "certify", shortCounter, run, "explained"); !strings.HasSuffix(r.header.Get("Location"), "ok=certify") {
		t.Fatalf("certify: %q", r.header.Get("Location"))
	}
	path := filepath.Join(ts.cfg.Store.Dir(), signoff.FileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":2,"time":"2026-11-22T01:40:00Z","user":"wang","role":"revi`)
	f.Close()
	reviewer := ts.client(t)
	ts.restart(t, clerk, reviewer)
	reviewer.login("wang")
	if r := signOff(reviewer, "approve", shortCounter, run, ""); !strings.HasSuffix(r.header.Get("Location"), "ok=approve") {
		t.Fatalf("approve after the restart: %d %q", r.status, r.header.Get("Location"))
	}
	auditor := ts.client(t)
	auditor.login("zhao")
	page := auditor.get("/audit/log")
	if page.status != 200 || !strings.Contains(page.body, "日志修复（截去残行）") || !strings.Contains(page.body, "cut off a torn last line after event 1: 65 bytes") {
		t.Errorf("the log page does not show the repair: %d\n%s", page.status, page.body)
	}
	evs, err := ts.signoff.Events("")
	if err != nil || len(evs) != 3 || evs[1].Action != signoff.Repair || evs[2].Action != signoff.Approve || evs[2].Seq != 3 {
		t.Errorf("events: %+v, %v", evs, err)
	}
}
