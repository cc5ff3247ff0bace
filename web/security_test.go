package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"settle/connectors"
	"settle/workflow"
)

func TestNoSession(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	run := ts.runNow(t)
	c := ts.client(t)
	base := "/day/" + testDate + "/c/TY0001/" + shortCounter
	tests := []struct {
		method, path string
		status       int
		location     string
	}{
		{"GET", "/", http.StatusSeeOther, "/login?next=%2F"},
		{"GET", "/day/" + testDate, http.StatusSeeOther, "/login?next=%2Fday%2F" + testDate},
		{"GET", base, http.StatusSeeOther, "/login?next="},
		{"GET", "/audit/log", http.StatusSeeOther, "/login?next="},
		{"GET", base + "/" + run + "/report.pdf", http.StatusUnauthorized, ""},
		{"GET", base + "/" + run + "/report.xlsx", http.StatusUnauthorized, ""},
		{"GET", "/day/" + testDate + "/status", http.StatusUnauthorized, ""},
		{"GET", "/audit/" + testDate + "/diff.xlsx?a=" + run + "&b=" + run, http.StatusUnauthorized, ""},
		{"POST", "/day/" + testDate + "/run", http.StatusUnauthorized, ""},
		{"POST", base + "/certify", http.StatusUnauthorized, ""},
		{"POST", "/logout", http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		var form url.Values
		if tt.method == "POST" {
			form = url.Values{"run": {run}}
		}
		r := c.do(tt.method, tt.path, form)
		if r.status != tt.status || !strings.HasPrefix(r.header.Get("Location"), tt.location) {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, r.status, r.header.Get("Location"), tt.status, tt.location)
		}
		if strings.Contains(r.body, "189.37") || strings.HasPrefix(r.body, "%PDF") {
			t.Errorf("%s %s: figures or a report without a session", tt.method, tt.path)
		}
	}
	// What needs no session.
	for _, p := range []string{"/healthz", "/login", "/static/style.css", "/static/app.js"} {
		if r := c.get(p); r.status != http.StatusOK {
			t.Errorf("GET %s: %d", p, r.status)
		}
	}
}

func TestSessionCookie(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	c := ts.client(t)
	c.login("zhang")
	u, _ := url.Parse(ts.ts.URL)
	var sess *http.Cookie
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil {
		t.Fatal("no session cookie")
	}
	// The Set-Cookie attributes.
	c2 := ts.client(t)
	tok := c2.csrf("/login")
	r := c2.post("/login", url.Values{"csrf": {tok}, "username": {"zhang"}, "password": {passwordOf("zhang")}})
	sc := r.header.Values("Set-Cookie")
	var line string
	for _, l := range sc {
		if strings.HasPrefix(l, sessionCookie+"=") {
			line = l
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(line, want) {
			t.Errorf("session cookie %q lacks %s", line, want)
		}
	}
	// A forged session: another user's name under zhang's signature.
	enc, sig, _ := strings.Cut(sess.Value, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(enc)
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "zhang", "zhao_", 1))) + "." + sig
	c3 := ts.client(t)
	c3.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: forged}})
	if r := c3.get("/day/" + testDate); r.status != http.StatusSeeOther {
		t.Errorf("forged session: %d, want a redirect to the login", r.status)
	}
	// Logging out ends the session, even for a copy of the cookie.
	copyJar := ts.client(t)
	copyJar.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sess.Value}})
	if r := copyJar.get("/day/" + testDate); r.status != http.StatusOK {
		t.Fatalf("copied session before logout: %d", r.status)
	}
	tok = c.csrf("/day/" + testDate)
	if r := c.post("/logout", url.Values{"csrf": {tok}}); r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
	if r := copyJar.get("/day/" + testDate); r.status != http.StatusSeeOther {
		t.Errorf("copied session after logout: %d, want a redirect to the login", r.status)
	}
}

func TestCSRF(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	run := ts.runNow(t)
	c := ts.client(t)
	// The login form's token is bound to its cookie.
	r := c.post("/login", url.Values{"username": {"zhang"}, "password": {passwordOf("zhang")}})
	if r.status != http.StatusForbidden {
		t.Errorf("login without a token: %d, want 403", r.status)
	}
	c.get("/login")
	r = c.post("/login", url.Values{"csrf": {"forged"}, "username": {"zhang"}, "password": {passwordOf("zhang")}})
	if r.status != http.StatusForbidden {
		t.Errorf("login with a forged token: %d, want 403", r.status)
	}
	c.login("zhang")
	other := ts.client(t)
	other.login("li")
	othersToken := other.csrf("/day/" + testDate)
	path := "/day/" + testDate + "/c/TY0001/" + shortCounter + "/certify"
	form := url.Values{"run": {run}, "comment": {"checked"}, "confirm": {"yes"}}
	for name, tok := range map[string]string{"none": "", "forged": "abc", "another session's": othersToken} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tok != "" {
			f.Set("csrf", tok)
		}
		if r := c.post(path, f); r.status != http.StatusForbidden {
			t.Errorf("certify with %s token: %d, want 403", name, r.status)
		}
	}
	if r := c.post("/day/"+testDate+"/run", nil); r.status != http.StatusForbidden {
		t.Errorf("run without a token: %d, want 403", r.status)
	}
	if evs := changes(t, ts); len(evs) != 0 {
		t.Fatalf("events recorded without a token: %+v", evs)
	}
	// With the session's own token it works (once every error is explained).
	explainAll(t, ts, c, shortCounter)
	form.Set("csrf", c.csrf("/day/"+testDate))
	if r := c.post(path, form); r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "?ok=certify") {
		t.Errorf("certify with the token: %d %q", r.status, r.header.Get("Location"))
	}
}

func TestRolesAndScope(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	run := ts.runNow(t)
	mine := "/day/" + testDate + "/c/TY0001/" + shortCounter
	theirs := "/day/" + testDate + "/c/TY0001/" + otherCounter
	otherOutlet := "/day/" + testDate + "/c/TY0002/TY0002-01"
	tests := []struct {
		user, method, path string
		status             int
	}{
		// A clerk sees their counter only, by any URL.
		{"zhang", "GET", mine, 200},
		{"zhang", "GET", mine + "/" + run + "/report.pdf", 200},
		{"zhang", "GET", theirs, 403},
		{"zhang", "GET", theirs + "/" + run + "/report.pdf", 403},
		{"zhang", "GET", theirs + "/" + run + "/report.xlsx", 403},
		{"zhang", "GET", otherOutlet, 403},
		{"zhang", "GET", "/day/" + testDate + "/c/TY0002/" + shortCounter, 404}, // in scope by id, not at that outlet
		{"zhang", "POST", theirs + "/certify", 403},
		{"li", "GET", mine, 403},
		{"li", "GET", mine + "/" + run + "/report.pdf", 403},
		// Roles.
		{"zhang", "POST", mine + "/approve", 403},
		{"zhang", "POST", mine + "/reopen", 403},
		{"zhang", "POST", mine + "/return", 403},
		{"zhang", "GET", "/audit/" + testDate + "/runs/" + run, 403},
		{"zhang", "GET", "/audit/" + testDate + "/diff?a=" + run + "&b=" + run, 403},
		{"zhang", "GET", "/audit/log", 403},
		{"wang", "POST", mine + "/certify", 403},
		{"wang", "GET", mine, 200},
		{"wang", "GET", otherOutlet, 403},
		{"wang", "GET", "/audit/log", 403},
		{"chen", "GET", mine, 403},
		{"chen", "POST", mine + "/approve", 403},
		{"zhao", "GET", mine, 200},
		{"zhao", "GET", otherOutlet, 200},
		{"zhao", "POST", mine + "/certify", 403},
		{"zhao", "POST", mine + "/approve", 403},
		{"zhao", "POST", "/day/" + testDate + "/run", 403},
		{"zhao", "GET", "/audit/" + testDate + "/runs/" + run, 200},
		{"zhao", "GET", "/audit/" + testDate + "/diff?a=" + run + "&b=" + run, 200},
		{"zhao", "GET", "/audit/log", 200},
		// Unknown actions.
		{"wang", "POST", mine + "/delete", 404},
	}
	clients := map[string]*client{}
	for _, tt := range tests {
		c, ok := clients[tt.user]
		if !ok {
			c = ts.client(t)
			c.login(tt.user)
			clients[tt.user] = c
		}
		var form url.Values
		if tt.method == "POST" {
			form = url.Values{"csrf": {c.csrf("/day/" + testDate)}, "run": {run}, "comment": {"x"}, "confirm": {"yes"}}
		}
		r := c.do(tt.method, tt.path, form)
		if r.status != tt.status {
			t.Errorf("%s: %s %s: %d, want %d", tt.user, tt.method, tt.path, r.status, tt.status)
		}
		if tt.status == 403 && strings.Contains(r.body, "189.37") {
			t.Errorf("%s: %s %s: refused, but shows the figures", tt.user, tt.method, tt.path)
		}
	}
	// A clerk's day page shows their counter and no other.
	day := clients["li"].get("/day/" + testDate)
	if !strings.Contains(day.body, `id="counter-`+otherCounter+`"`) || strings.Contains(day.body, shortCounter) {
		t.Errorf("li's day page: want %s only", otherCounter)
	}
	if evs := changes(t, ts); len(evs) != 0 {
		t.Errorf("refused actions were recorded: %+v", evs)
	}
}

func TestMalformedIDs(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	run := ts.runNow(t)
	c := ts.client(t)
	c.login("zhao") // the auditor sees every counter: only the ids can stop these
	good := "/day/" + testDate + "/c/TY0001/" + shortCounter
	for _, p := range []string{
		"/day/2026-13-01",
		"/day/2026-11-21x",
		"/day/" + testDate + "/c/TY0001/..%2f..%2fmanifest.json",
		"/day/" + testDate + "/c/..%2F..%2F/" + shortCounter,
		"/day/" + testDate + "/c/TY0001/TY0001-02%00",
		"/day/" + testDate + "/c/TY0001/" + strings.Repeat("A", 33),
		"/day/" + testDate + "/c/TY0001/TY0001.02",
		good + "/..%2f..%2f..%2fweb.secret/report.pdf",
		good + "/.tmp-x/report.pdf",
		good + "/" + run + "%2f..%2f..%2fweb.secret/report.pdf",
		"/audit/" + testDate + "/runs/..%2f..%2fweb.secret",
		"/audit/" + testDate + "/diff?a=../../x&b=" + run,
		"/audit/log?date=../../etc",
	} {
		r := c.get(p)
		if r.status != http.StatusBadRequest && r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 400 or 404", p, r.status)
		}
	}
	for _, p := range []string{good + "/" + run + "/manifest.json", good + "/" + run + "/report.csv",
		good + "/20990101T000000.000Z-deadbeef/report.pdf"} {
		if r := c.get(p); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.status)
		}
	}
	// A path that cleans to another is redirected by the mux, never served.
	if r := c.get(good + "/../../../web.secret"); r.status == http.StatusOK {
		t.Errorf("dot segments: %d", r.status)
	}
}

func TestLoginRateLimit(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	c := ts.client(t)
	tok := c.csrf("/login")
	for i := 0; i < ts.cfg.LoginFailures; i++ {
		r := c.post("/login", url.Values{"csrf": {tok}, "username": {"zhang"}, "password": {"wrong"}})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, r.status)
		}
	}
	r := c.post("/login", url.Values{"csrf": {tok}, "username": {"zhang"}, "password": {passwordOf("zhang")}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("right password after %d failures: %d, want 429 with Retry-After", ts.cfg.LoginFailures, r.status)
	}
	// Another user from the same address is not blocked yet...
	c2 := ts.client(t)
	c2.login("li")
	// ...until the address has failed 4× as often, whatever the names.
	for i := 0; i < 3*ts.cfg.LoginFailures; i++ {
		c.post("/login", url.Values{"csrf": {tok}, "username": {"nobody" + string(rune('a'+i))}, "password": {"wrong"}})
	}
	c3 := ts.client(t)
	tok3 := c3.csrf("/login")
	r = c3.post("/login", url.Values{"csrf": {tok3}, "username": {"wang"}, "password": {passwordOf("wang")}})
	if r.status != http.StatusTooManyRequests {
		t.Errorf("login from an address with %d failures: %d, want 429", 4*ts.cfg.LoginFailures, r.status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	c := ts.client(t)
	r := c.get("/login")
	for h, want := range map[string]string{
		"Content-Security-Policy": "script-src 'self'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	} {
		if !strings.Contains(r.header.Get(h), want) {
			t.Errorf("%s: %q, want %q", h, r.header.Get(h), want)
		}
	}
	fi, err := os.Stat(filepath.Join(ts.cfg.Store.Dir(), SecretName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret: %v %v, want mode 0600", fi.Mode(), err)
	}
	// A secret others may read is refused.
	os.Chmod(filepath.Join(ts.cfg.Store.Dir(), SecretName), 0o644)
	cfg := ts.cfg
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("secret readable by others: %v", err)
	}
	// The language switch only goes back to this site.
	for next, want := range map[string]string{"/day/x": "/day/x", "//evil.example/": "/", "https://evil.example/": "/",
		"/\\evil": "/", "/\t/evil.example": "/", "/\n/evil.example": "/", "/%09/evil.example": "/%09/evil.example"} {
		r := c.get("/lang/en?next=" + url.QueryEscape(next))
		if r.header.Get("Location") != want {
			t.Errorf("lang next=%q: Location %q, want %q", next, r.header.Get("Location"), want)
		}
	}
}

// signOff posts a sign-off action as the client's user.
func signOff(c *client, action, counter, run, comment string) response {
	c.t.Helper()
	return c.post("/day/"+testDate+"/c/TY0001/"+counter+"/"+action, url.Values{
		"csrf": {c.csrf("/day/" + testDate)}, "run": {run}, "comment": {comment}, "confirm": {"yes"}})
}

func sha(b string) string {
	s := sha256.Sum256([]byte(b))
	return hex.EncodeToString(s[:])
}

func TestSignoffLockSurvivesRerun(t *testing.T) {
	ts := newTestServer(t, &seqSource{srcs: []connectors.Source{demoSource(0.5), demoSource(0)}})
	first := ts.runNow(t)
	clerk, reviewer := ts.client(t), ts.client(t)
	clerk.login("zhang")
	reviewer.login("wang")
	page := "/day/" + testDate + "/c/TY0001/" + shortCounter
	pdf := clerk.get(page + "/" + first + "/report.pdf")
	if pdf.status != 200 || !strings.HasPrefix(pdf.body, "%PDF") {
		t.Fatalf("pdf: %d %q %v", pdf.status, shortText(pdf.body, 300), pdf.header)
	}
	// Errors need an explanation, each; approval needs a certification.
	if r := signOff(clerk, "certify", shortCounter, first, ""); !strings.HasSuffix(r.header.Get("Location"), "err=items_open") {
		t.Errorf("certify with errors unexplained: %q", r.header.Get("Location"))
	}
	if r := signOff(reviewer, "approve", shortCounter, first, ""); !strings.HasSuffix(r.header.Get("Location"), "err=state") {
		t.Errorf("approve before certify: %q", r.header.Get("Location"))
	}
	explainAll(t, ts, clerk, shortCounter)
	if r := signOff(clerk, "certify", shortCounter, first, "cash short 189.37: counted twice, reported"); !strings.HasSuffix(r.header.Get("Location"), "ok=certify") {
		t.Fatalf("certify: %q", r.header.Get("Location"))
	}
	if r := signOff(clerk, "certify", shortCounter, first, "again"); !strings.HasSuffix(r.header.Get("Location"), "err=state") {
		t.Errorf("certify twice: %q", r.header.Get("Location"))
	}
	if r := signOff(reviewer, "approve", shortCounter, first, ""); !strings.HasSuffix(r.header.Get("Location"), "err=items_undecided") {
		t.Errorf("approve with errors undecided: %q", r.header.Get("Location"))
	}
	decideAll(t, ts, reviewer, shortCounter, "accept")
	if r := signOff(reviewer, "approve", shortCounter, first, ""); !strings.HasSuffix(r.header.Get("Location"), "ok=approve") {
		t.Fatalf("approve: %q", r.header.Get("Location"))
	}

	// The day is run again over corrected feeds: a new current run with other figures.
	second := ts.runNow(t)
	if second == first {
		t.Fatal("the rerun has the same id")
	}
	secondDir, _ := ts.cfg.Store.RunDir(testDate, second)
	firstDir, _ := ts.cfg.Store.RunDir(testDate, first)
	if cur, _, _ := ts.cfg.Store.Current(testDate); cur != secondDir {
		t.Fatalf("current is %s, want the rerun", cur)
	}
	signedNet, newNet := counterNet(t, firstDir, shortCounter), counterNet(t, secondDir, shortCounter)
	if signedNet == newNet {
		t.Fatalf("the rerun has the same net %s for %s: the test needs other figures", newNet, shortCounter)
	}
	for _, c := range []*client{clerk, reviewer} {
		r := c.get(page)
		if !strings.Contains(r.body, first) || !strings.Contains(r.body, `id="net-`+shortCounter+`">`+signedNet+`<`) {
			t.Errorf("after the rerun the page does not show the signed run %s and its net %s", first, signedNet)
		}
		if !strings.Contains(r.body, "stamp-approved") {
			t.Errorf("after the rerun the page does not show the approval")
		}
		// The signed report is what is downloaded, byte for byte; the rerun's is refused.
		again := c.get(page + "/" + first + "/report.pdf")
		if again.status != 200 || sha(again.body) != sha(pdf.body) || again.header.Get("X-Settle-Signoff") != "approved" {
			t.Errorf("signed pdf after the rerun: %d, sha %s, want %s", again.status, sha(again.body), sha(pdf.body))
		}
		if r := c.get(page + "/" + second + "/report.pdf"); r.status != http.StatusNotFound {
			t.Errorf("the rerun's pdf of a locked counter: %d, want 404", r.status)
		}
	}
	// The clerk may not certify the rerun, and nobody approves a run that was not certified.
	if r := signOff(clerk, "certify", shortCounter, second, "new"); !strings.HasSuffix(r.header.Get("Location"), "err=stale") {
		t.Errorf("certify the rerun of a locked day: %q", r.header.Get("Location"))
	}
	// A report altered on disk is refused, not served.
	path := filepath.Join(firstDir, "reports", "TY0001", shortCounter+".pdf")
	orig, _ := os.ReadFile(path)
	os.WriteFile(path, append([]byte{}, append(orig[:len(orig)-1], 'X')...), 0o644)
	if r := clerk.get(page + "/" + first + "/report.pdf"); r.status != http.StatusInternalServerError {
		t.Errorf("altered signed pdf: %d, want 500", r.status)
	}
	os.WriteFile(path, orig, 0o644)

	// Reopening needs a comment, is recorded, and then shows the current run.
	if r := signOff(reviewer, "reopen", shortCounter, first, "  "); !strings.HasSuffix(r.header.Get("Location"), "err=comment_required") {
		t.Errorf("reopen without a comment: %q", r.header.Get("Location"))
	}
	if r := signOff(reviewer, "reopen", shortCounter, first, "deposit slip corrected; rerun adopted"); !strings.HasSuffix(r.header.Get("Location"), "ok=reopen") {
		t.Fatalf("reopen: %q", r.header.Get("Location"))
	}
	r := clerk.get(page)
	if !strings.Contains(r.body, second) || !strings.Contains(r.body, "stamp-open") {
		t.Errorf("after reopening the page does not show the current run %s", second)
	}
	if r := clerk.get(page + "/" + second + "/report.pdf"); r.status != http.StatusOK {
		t.Errorf("current pdf after reopening: %d", r.status)
	}

	// The log: the sign-offs, each naming its run, sums and comment, chained and MACed.
	evs, err := ts.wf.DayEvents(context.Background(), testDate, "TY0001", shortCounter)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, strings.Join([]string{e.Action, e.User, e.Counter, e.RunID, e.Comment}, " "))
		if e.PDFSHA256 != sha(pdf.body) {
			t.Errorf("event %d: pdf sha256 %s, want %s", e.Seq, e.PDFSHA256, sha(pdf.body))
		}
	}
	want := []string{
		"certify zhang " + shortCounter + " " + first + " cash short 189.37: counted twice, reported",
		"approve wang " + shortCounter + " " + first + " ",
		"reopen wang " + shortCounter + " " + first + " deposit slip corrected; rerun adopted",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := ts.wf.Verify(context.Background()); err != nil {
		t.Error(err)
	}
	// A second process over the same store (settle items) reads the same state at once.
	wf2, err := workflow.Open(ts.cfg.Store.Dir(), workflow.Options{Now: ts.cfg.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer wf2.Close()
	day, _ := wf2.Day(context.Background(), testDate, "TY0001", shortCounter)
	evs2, _ := wf2.DayEvents(context.Background(), testDate, "TY0001", shortCounter)
	if day.Status != workflow.StatusOpen || len(evs2) != 3 {
		t.Errorf("state read back: %+v", day)
	}
}

func TestPinnedRunMissing(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	run := ts.runNow(t)
	clerk := ts.client(t)
	clerk.login("zhang")
	explainAll(t, ts, clerk, shortCounter)
	if r := signOff(clerk, "certify", shortCounter, run, "explained"); !strings.HasSuffix(r.header.Get("Location"), "ok=certify") {
		t.Fatalf("certify: %q", r.header.Get("Location"))
	}
	ts.runNow(t)
	dir, _ := ts.cfg.Store.RunDir(testDate, run)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/day/" + testDate, "/day/" + testDate + "/c/TY0001/" + shortCounter} {
		r := clerk.get(p)
		if r.status != http.StatusOK || !strings.Contains(r.body, "签字时的运行 "+run+" 不在存储中") {
			t.Errorf("GET %s with the signed run gone: %d, want the news", p, r.status)
		}
	}
	if r := clerk.get("/day/" + testDate + "/c/TY0001/" + shortCounter + "/" + run + "/report.pdf"); r.status != http.StatusNotFound {
		t.Errorf("pdf of a run gone: %d", r.status)
	}
}

func TestReturn(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	run := ts.runNow(t)
	clerk, reviewer := ts.client(t), ts.client(t)
	clerk.login("zhang")
	reviewer.login("wang")
	explainAll(t, ts, clerk, shortCounter)
	signOff(clerk, "certify", shortCounter, run, "explained")
	if r := signOff(reviewer, "return", shortCounter, run, ""); !strings.HasSuffix(r.header.Get("Location"), "err=comment_required") {
		t.Errorf("return without a comment: %q", r.header.Get("Location"))
	}
	if r := signOff(reviewer, "return", shortCounter, run, "explain the IMEI duplicate"); !strings.HasSuffix(r.header.Get("Location"), "ok=return") {
		t.Fatalf("return: %q", r.header.Get("Location"))
	}
	page := clerk.get("/day/" + testDate + "/c/TY0001/" + shortCounter)
	if !strings.Contains(page.body, "explain the IMEI duplicate") || !strings.Contains(page.body, "/certify") {
		t.Errorf("returned counter: the clerk sees neither the comment nor the certify form")
	}
	if page := clerk.get("/queue"); !strings.Contains(page.body, "stamp-open") || !strings.Contains(page.body, "退回") {
		t.Errorf("the returned counter-day is not in the clerk's queue")
	}
	if r := signOff(clerk, "certify", shortCounter, run, "IMEI sold twice: the second sale was a test"); !strings.HasSuffix(r.header.Get("Location"), "ok=certify") {
		t.Errorf("certify again after a return: %q", r.header.Get("Location"))
	}
}
