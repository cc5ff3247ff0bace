package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// sessionOf returns the client's session cookie.
func sessionOf(t *testing.T, c *client) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(c.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// TestLogoutSurvivesRestart: a session logged out stays ended after the server restarts,
// and for a second server over the same store; a session not logged out goes on.
func TestLogoutSurvivesRestart(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	out, stays := ts.client(t), ts.client(t)
	out.login("zhang")
	stays.login("zhang")
	old := sessionOf(t, out)
	// A second server over the store, started before the logout, sees it too.
	second, err := New(ts.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	tok := out.csrf("/day/" + testDate)
	if r := out.post("/logout", url.Values{"csrf": {tok}}); r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
	copyJar := ts.client(t)
	ts.restart(t, copyJar, stays)
	u, _ := url.Parse(copyJar.base)
	copyJar.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: old.Value}})
	if r := copyJar.get("/day/" + testDate); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Errorf("the logged-out cookie after a restart: %d %q, want a redirect to the login", r.status, r.header.Get("Location"))
	}
	if r := stays.get("/day/" + testDate); r.status != http.StatusOK {
		t.Errorf("a session not logged out, after the restart: %d, want 200", r.status)
	}
	req := httptest.NewRequest("GET", "/day/"+testDate, nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: old.Value})
	if sess := second.session(req); sess != nil {
		t.Errorf("a second server over the store accepts the logged-out cookie")
	}
	// The record holds no cookie: only a digest of the session's nonce.
	b, err := os.ReadFile(filepath.Join(ts.cfg.Store.Dir(), RevokedName))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); len(lines) != 1 || strings.Contains(string(b), old.Value) {
		t.Errorf("%s:\n%s", RevokedName, b)
	}
	fi, _ := os.Stat(filepath.Join(ts.cfg.Store.Dir(), RevokedName))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", RevokedName, fi.Mode().Perm())
	}
}

// TestRunWindow: a clerk starts runs of the last 31 days (today, 2026-11-22, included), a
// reviewer of the last 366; older dates are refused with 403 and a message naming the window,
// future dates with 422, and nothing is queued for them.
func TestRunWindow(t *testing.T) {
	ts := newTestServer(t, demoSource(0))
	clerk, clerkEN, reviewer := ts.client(t), ts.client(t), ts.client(t)
	clerk.login("zhang")
	clerkEN.login("li")
	clerkEN.get("/lang/en?next=/")
	reviewer.login("wang")
	run := func(c *client, date string) response {
		t.Helper()
		return c.post("/day/"+date+"/run", url.Values{"csrf": {c.csrf("/day/" + testDate)}})
	}
	tests := []struct {
		name   string
		c      *client
		date   string
		status int
		text   string
	}{
		{"clerk, a day before the window", clerk, "2026-10-21", 403, "营业员只能结算最近 31 天的日期（2026-10-22 至 2026-11-22）。更早的日期请联系复核人。"},
		{"clerk, twenty years ago", clerk, "2006-11-22", 403, "营业员只能结算最近 31 天的日期（2026-10-22 至 2026-11-22）。"},
		{"clerk, in English", clerkEN, "2026-10-01", 403, "Clerks can settle only the last 31 days (2026-10-22 to 2026-11-22). For an earlier date, ask your reviewer."},
		{"clerk, tomorrow", clerk, "2026-11-23", 422, "不能结算未来的日期。"},
		{"reviewer, a day before the window", reviewer, "2025-11-20", 403, "复核人只能结算最近 366 天的日期（2025-11-21 至 2026-11-22）。"},
		{"reviewer, tomorrow", reviewer, "2026-11-23", 422, "不能结算未来的日期。"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(tt.c, tt.date)
			if r.status != tt.status || !strings.Contains(r.body, tt.text) {
				t.Errorf("POST run %s: %d, want %d with %q\n%s", tt.date, r.status, tt.status, tt.text, r.body)
			}
			if st := ts.runs.state(tt.date); st != nil {
				t.Errorf("a run of %s was queued", tt.date)
			}
		})
	}
	// The day page of a date before the window says so and offers no run.
	page := clerk.get("/day/2026-10-21")
	if page.status != 200 || !strings.Contains(page.body, "营业员只能结算最近 31 天的日期") || strings.Contains(page.body, `action="/day/2026-10-21/run"`) {
		t.Errorf("day page before the window: %d\n%s", page.status, page.body)
	}
	// The first day of the window is run.
	if r := run(clerk, "2026-10-22"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/day/2026-10-22" {
		t.Errorf("clerk, first day of the window: %d %q", r.status, r.header.Get("Location"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ts.WaitRuns(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ts.cfg.Store.Current("2026-10-22"); !ok || err != nil {
		t.Errorf("no run of 2026-10-22 published: %v", err)
	}
}
