package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWebCounts(t *testing.T) {
	w := NewWeb()
	for _, code := range []int{http.StatusSeeOther, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusForbidden} {
		w.Login(code)
	}
	w.ItemChanged("accept")
	w.ItemChanged("accept")
	w.RunStarted()
	w.RefreshStarted()
	w.RefreshStarted()
	w.Request("", 404, time.Millisecond)
	var none *Web // a nil *Web counts nothing and does not panic
	none.Login(200)
	none.RunStarted()
	none.RefreshStarted()
	none.ItemChanged("x")
	none.Request("GET /", 200, 0)
	rec := httptest.NewRecorder()
	w.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`settle_web_logins_total{result="success"} 1`, `settle_web_logins_total{result="failure"} 1`,
		`settle_web_logins_total{result="limited"} 1`, `settle_web_logins_total{result="rejected"} 1`,
		`settle_web_item_changes_total{action="accept"} 2`, `settle_web_runs_started_total 1`,
		`settle_web_refreshes_started_total 2`,
		`settle_web_request_duration_seconds_count{code="404",route="unmatched"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %q", want)
		}
	}
}
