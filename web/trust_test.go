package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
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
