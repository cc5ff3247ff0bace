package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestMetrics: /metrics answers without a login and counts what the page did: a login that
// worked, one that failed, a run started, and request durations by route pattern, never by
// raw path.
func TestMetrics(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	c := ts.client(t)
	c.login("zhang")
	bad := ts.client(t)
	tok := bad.csrf("/login")
	if r := bad.post("/login", url.Values{"csrf": {tok}, "username": {"zhang"}, "password": {"wrong"}}); r.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.status)
	}
	ts.runNow(t)
	c.get("/day/" + testDate)
	c.get("/no/such/page")

	r := ts.client(t).get("/metrics")
	if r.status != http.StatusOK {
		t.Fatalf("/metrics: %d", r.status)
	}
	for _, want := range []string{
		`settle_web_logins_total{result="success"} 1`,
		`settle_web_logins_total{result="failure"} 1`,
		`settle_web_logins_total{result="limited"} 0`,
		`settle_web_runs_started_total 1`,
		`settle_web_request_duration_seconds_count{code="303",route="POST /login"} 1`,
		`settle_web_request_duration_seconds_count{code="200",route="GET /day/{date}"} 1`,
		`settle_web_request_duration_seconds_count{code="404",route="unmatched"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(r.body, testDate) || strings.Contains(r.body, "/no/such/page") {
		t.Errorf("/metrics names a raw path")
	}
}
