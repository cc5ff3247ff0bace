package web

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"settle/web/signoff"
	"settle/web/users"
	"settle/workflow"
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

// TestMigrateTornSignoffLog: a store whose sign-off log (the format before the workflow
// database) holds a certification and a line cut short by a full disk. The server started
// over it imports the log, verified, into the workflow database and leaves the file as it
// was; the counter-day is certified, a reviewer returns it, and the auditor's trail shows the
// repair of the torn line.
func TestMigrateTornSignoffLog(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	run := ts.runNow(t)
	dir, _ := ts.cfg.Store.RunDir(testDate, run)
	pdf, _ := os.ReadFile(filepath.Join(dir, "reports", "TY0001", shortCounter+".pdf"))
	xlsx, _ := os.ReadFile(filepath.Join(dir, "reports", "TY0001", shortCounter+".xlsx"))
	key, _ := os.ReadFile(filepath.Join(ts.cfg.Store.Dir(), SignoffKeyName))
	// The server opened its database before the log was there: take it out of the store.
	ts.Close()
	os.Remove(filepath.Join(ts.cfg.Store.Dir(), workflow.FileName))
	os.Remove(filepath.Join(ts.cfg.Store.Dir(), workflow.FileName+"-wal"))
	os.Remove(filepath.Join(ts.cfg.Store.Dir(), workflow.FileName+"-shm"))
	path := filepath.Join(ts.cfg.Store.Dir(), signoff.FileName)
	l, err := signoff.Open(path, key, signoff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(signoff.Event{Time: testNow, User: "zhang", Display: "张三", Role: "clerk", Action: signoff.Certify,
		Date: testDate, Outlet: "TY0001", Counter: shortCounter, RunID: run, PDFSHA256: sha(string(pdf)), XLSXSHA256: sha(string(xlsx)),
		Comment: "explained"}, nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":2,"time":"2026-11-22T01:40:00Z","user":"wang","role":"revi`)
	f.Close()
	before, _ := os.ReadFile(path)

	clerk, reviewer := ts.client(t), ts.client(t)
	ts.restart(t, clerk, reviewer)
	reviewer.login("wang")
	page := reviewer.get("/day/" + testDate + "/c/TY0001/" + shortCounter)
	if !strings.Contains(page.body, "stamp-certified") {
		t.Errorf("the migrated certification is not shown")
	}
	if r := signOff(reviewer, "approve", shortCounter, run, ""); !strings.HasSuffix(r.header.Get("Location"), "err=items_undecided") {
		t.Errorf("approve a day whose errors were never explained: %q", r.header.Get("Location"))
	}
	if r := signOff(reviewer, "return", shortCounter, run, "explain each error"); !strings.HasSuffix(r.header.Get("Location"), "ok=return") {
		t.Fatalf("return after the migration: %d %q", r.status, r.header.Get("Location"))
	}
	auditor := ts.client(t)
	auditor.login("zhao")
	trail := auditor.get("/audit/log")
	if trail.status != 200 || !strings.Contains(trail.body, "日志修复（截去残行）") || !strings.Contains(trail.body, "截去第 1 条事件之后的残行：65 字节，sha256 ") {
		t.Errorf("the trail does not show the repair: %d", trail.status)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) {
		t.Error("the old sign-off log was changed")
	}
	evs, err := ts.wf.Events(context.Background(), workflow.EventFilter{Counter: shortCounter})
	if err != nil || len(evs) != 2 || evs[0].Action != workflow.ActReturn || evs[1].Action != workflow.ActCertify {
		t.Errorf("events: %+v, %v", evs, err)
	}
	if err := ts.wf.Verify(context.Background()); err != nil {
		t.Error(err)
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

// tryLogin posts the login form from c, with X-Forwarded-For when xff is set; it is safe
// to call from several goroutines (errors come back, nothing fails the test).
func tryLogin(c *client, tok, name, password, xff string) (int, http.Header, string, error) {
	form := url.Values{"csrf": {tok}, "username": {name}, "password": {password}, "next": {"/"}}
	req, err := http.NewRequest(http.MethodPost, c.base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), err
}

// burst sends n logins at once and counts the answers by status.
func burst(t *testing.T, c *client, n int, name func(i int) string) map[int]int {
	t.Helper()
	tok := c.csrf("/login")
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, _, _, err := tryLogin(c, tok, name(i), "wrong-password", "")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				got[-1]++
				return
			}
			got[status]++
		}()
	}
	close(start)
	wg.Wait()
	return got
}

// TestLoginLimitsUnderConcurrency: 200 wrong passwords sent at once are not all checked:
// exactly 5 for one user, exactly 20 from one address whatever the names.
func TestLoginLimitsUnderConcurrency(t *testing.T) {
	ts := newTestServer(t, demoSource(0))
	got := burst(t, ts.client(t), 200, func(int) string { return "zhang" })
	if want := map[int]int{401: 5, 429: 195}; !maps.Equal(got, want) {
		t.Errorf("200 wrong passwords of one user at once: %v, want %v", got, want)
	}
	ts2 := newTestServer(t, demoSource(0))
	got = burst(t, ts2.client(t), 200, func(i int) string { return fmt.Sprintf("guess%03d", i) })
	if want := map[int]int{401: 20, 429: 180}; !maps.Equal(got, want) {
		t.Errorf("200 wrong passwords of 200 names at once from one address: %v, want %v", got, want)
	}
}

// TestLoginSlowsDown: five typos do not lock a colleague out: the right password goes
// through a second later; each further failure doubles the wait; `settle users unlock`
// (the users file's unlocked_at) ends the wait at once, on the running server.
func TestLoginSlowsDown(t *testing.T) {
	ts := newTestServer(t, demoSource(0))
	now := testNow
	ts.limiter.now = func() time.Time { return now }
	c := ts.client(t)
	tok := c.csrf("/login")
	try := func(password string) (int, string, string) {
		t.Helper()
		status, h, body, err := tryLogin(c, tok, "zhang", password, "")
		if err != nil {
			t.Fatal(err)
		}
		return status, h.Get("Retry-After"), body
	}
	for i := range 5 {
		if status, _, _ := try("typo"); status != 401 {
			t.Fatalf("typo %d: %d, want 401", i+1, status)
		}
	}
	if status, after, body := try(passwordOf("zhang")); status != 429 || after != "1" || !strings.Contains(body, "尝试次数过多，请 1 秒后再试。") {
		t.Errorf("right password at once after 5 typos: %d, Retry-After %q; want 429, 1 and the message", status, after)
	}
	now = now.Add(time.Second)
	if status, _, _ := try(passwordOf("zhang")); status != http.StatusSeeOther {
		t.Fatalf("right password a second after 5 typos: %d, want 303", status)
	}
	// The login cleared the user's failures: five more typos cost nothing again; then the
	// waits double: 1 s, 2 s, 4 s.
	c = ts.client(t) // logged out, on a new login form
	tok = c.csrf("/login")
	for i := range 5 {
		if status, _, _ := try("typo"); status != 401 {
			t.Fatalf("typo %d after the login: %d, want 401", i+1, status)
		}
	}
	for _, wait := range []string{"1", "2", "4"} {
		if status, after, _ := try("typo"); status != 429 || after != wait {
			t.Fatalf("typo at once: %d, Retry-After %q; want 429, %s", status, after, wait)
		}
		n, _ := strconv.Atoi(wait)
		now = now.Add(time.Duration(n) * time.Second)
		if status, _, _ := try("typo"); status != 401 {
			t.Fatalf("typo after %s s: %d, want it checked (401)", wait, status)
		}
	}
	if status, after, _ := try(passwordOf("zhang")); status != 429 || after != "8" {
		t.Fatalf("after 8 typos: %d, Retry-After %q; want 429, 8", status, after)
	}
	// An administrator unlocks the user: the running server re-reads the users file.
	if err := users.Update(ts.cfg.UsersFile, func(f *users.File) error {
		if !f.Unlock("zhang", now) {
			t.Fatal("no user zhang")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if status, after, _ := try(passwordOf("zhang")); status != http.StatusSeeOther {
		t.Errorf("right password after the unlock: %d (Retry-After %q), want 303", status, after)
	}
}

// TestTrustedProxy: behind a configured proxy the address limit counts the client's
// address from X-Forwarded-For; without one the header is ignored.
func TestTrustedProxy(t *testing.T) {
	peer := "127.0.0.1"
	proxies, err := ParseProxies("127.0.0.1, 10.9.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{nil, peer, []string{"192.0.2.7"}, peer},
		{proxies, peer, nil, peer},
		{proxies, peer, []string{"192.0.2.7"}, "192.0.2.7"},
		{proxies, peer, []string{"198.51.100.1, 192.0.2.7"}, "192.0.2.7"},             // the left one is the client's word
		{proxies, peer, []string{"198.51.100.1, 192.0.2.7, 10.9.3.4"}, "192.0.2.7"},   // an inner proxy of ours
		{proxies, peer, []string{"198.51.100.1", "192.0.2.7, 10.9.3.4"}, "192.0.2.7"}, // two headers
		{proxies, peer, []string{"192.0.2.7, garbage"}, peer},
		{proxies, peer, []string{"10.9.3.4"}, peer},
		{proxies, "192.0.2.99", []string{"198.51.100.1"}, "192.0.2.99"}, // not our proxy: its header is not believed
		{proxies, peer, []string{"::ffff:192.0.2.7"}, "192.0.2.7"},
	}
	for i, tt := range tests {
		s := &Server{cfg: Config{TrustedProxies: tt.trusted}}
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = tt.remote + ":5555"
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientIP(r); got != tt.want {
			t.Errorf("%d: remote %s, X-Forwarded-For %q: %q, want %q", i, tt.remote, tt.xff, got, tt.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) accepted", bad)
		}
	}

	// A hall behind one proxy: one clerk's guesses slow down their own address only.
	ts := newTestServer(t, demoSource(0))
	ts.cfg.TrustedProxies = proxies
	c := ts.client(t)
	tok := c.csrf("/login")
	for i := range 20 {
		if status, _, _, err := tryLogin(c, tok, fmt.Sprintf("guess%02d", i), "wrong-password", "192.0.2.7"); err != nil || status != 401 {
			t.Fatalf("guess %d: %d %v", i, status, err)
		}
	}
	if status, _, _, _ := tryLogin(c, tok, "li", passwordOf("li"), "192.0.2.7"); status != 429 {
		t.Errorf("the guessing address after 20 failures: %d, want 429", status)
	}
	if status, _, _, _ := tryLogin(c, tok, "li", passwordOf("li"), "192.0.2.8"); status != http.StatusSeeOther {
		t.Errorf("a colleague behind the same proxy: %d, want 303", status)
	}
	// Without a trusted proxy, the header is the client's word: all count as the peer.
	ts2 := newTestServer(t, demoSource(0))
	c2 := ts2.client(t)
	tok2 := c2.csrf("/login")
	for i := range 20 {
		tryLogin(c2, tok2, fmt.Sprintf("guess%02d", i), "wrong-password", fmt.Sprintf("192.0.2.%d", i))
	}
	if status, _, _, _ := tryLogin(c2, tok2, "li", passwordOf("li"), "192.0.2.200"); status != 429 {
		t.Errorf("an untrusted X-Forwarded-For escaped the address limit: %d, want 429", status)
	}
}

// TestLimiterCap: past the free failures the wait doubles up to the window; a guess at the
// end of each wait is checked but the wait stays at the cap, and only a window of rest after
// the wait ends forgets the failures.
func TestLimiterCap(t *testing.T) {
	now := testNow
	l := newLimiter(time.Second, 15*time.Minute, func() time.Time { return now })
	key := limitKey{name: "user:zhang", free: 5}
	var waits []time.Duration
	for range 16 {
		wait, at := l.reserve(key)
		if at == nil {
			waits = append(waits, wait)
			now = now.Add(wait)
			wait, at = l.reserve(key)
			if at == nil {
				t.Fatalf("refused after waiting %s: %s more", waits[len(waits)-1], wait)
			}
		}
		at.done(false)
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 512 * time.Second, 15 * time.Minute}
	if !slices.Equal(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	// A rest shorter than the wait plus a window keeps the count.
	now = now.Add(15*time.Minute + 14*time.Minute)
	if wait, _ := l.reserve(key); wait != 0 {
		t.Fatalf("at the end of the wait: %s", wait)
	}
	if wait, _ := l.reserve(key); wait != 15*time.Minute {
		t.Errorf("the guess after a short rest: wait %s, want the cap", wait)
	}
	now = now.Add(30 * time.Minute)
	for i := range 5 {
		if wait, at := l.reserve(key); wait != 0 || at == nil {
			t.Fatalf("after a long rest, attempt %d: wait %s", i+1, wait)
		}
	}
}
