package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Web is the registry of `settle serve`: the page's own figures, plus the Go runtime's and
// the process's. Its methods are safe for concurrent use; a nil *Web counts nothing.
type Web struct {
	reg         *prometheus.Registry
	logins      *prometheus.CounterVec
	runsStarted prometheus.Counter
	refreshes   prometheus.Counter
	itemChanges *prometheus.CounterVec
	requests    *prometheus.HistogramVec
}

// NewWeb returns a registry with every series of the page at zero.
func NewWeb() *Web {
	w := &Web{
		reg: prometheus.NewRegistry(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "settle_web_logins_total",
			Help: "Login attempts by result: success, failure (wrong name or password), limited (slowed down), rejected (expired form or bad request)."},
			[]string{"result"}),
		runsStarted: prometheus.NewCounter(prometheus.CounterOpts{Name: "settle_web_runs_started_total",
			Help: "Runs started from the page."}),
		refreshes: prometheus.NewCounter(prometheus.CounterOpts{Name: "settle_web_refreshes_started_total",
			Help: "Refreshes of some counters (a clerk's refresh of their counter) started from the page; runs_started counts whole runs."}),
		itemChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "settle_web_item_changes_total",
			Help: "Changes of exception items on the page, by action."}, []string{"action"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "settle_web_request_duration_seconds",
			Help:    "Time to answer a request, by route pattern and status code.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
			[]string{"route", "code"}),
	}
	w.reg.MustRegister(w.logins, w.runsStarted, w.refreshes, w.itemChanges, w.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"success", "failure", "limited", "rejected"} {
		w.logins.WithLabelValues(r)
	}
	return w
}

// Handler serves the registry in the Prometheus exposition format.
func (w *Web) Handler() http.Handler {
	return promhttp.HandlerFor(w.reg, promhttp.HandlerOpts{Registry: w.reg})
}

// Login counts a login attempt answered with HTTP status code: 303 (see other) is a
// success, 401 a failure, 429 a slowed-down attempt, anything else a rejected form.
func (w *Web) Login(code int) {
	if w == nil {
		return
	}
	result := "rejected"
	switch code {
	case http.StatusSeeOther:
		result = "success"
	case http.StatusUnauthorized:
		result = "failure"
	case http.StatusTooManyRequests:
		result = "limited"
	}
	w.logins.WithLabelValues(result).Inc()
}

// RunStarted counts a run started from the page.
func (w *Web) RunStarted() {
	if w != nil {
		w.runsStarted.Inc()
	}
}

// RefreshStarted counts a refresh of some counters started from the page (job.Config's
// Counters set), which RunStarted does not count.
func (w *Web) RefreshStarted() {
	if w != nil {
		w.refreshes.Inc()
	}
}

// ItemChanged counts a change of an exception item (accept, resolve, comment, …); action
// must come from a fixed list, never from a request, so that the series stay few.
func (w *Web) ItemChanged(action string) {
	if w != nil {
		w.itemChanges.WithLabelValues(action).Inc()
	}
}

// Request observes a request: route is the ServeMux pattern that matched ("" for none:
// written "unmatched", so that unknown paths cannot grow the series).
func (w *Web) Request(route string, code int, took time.Duration) {
	if w == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	w.requests.WithLabelValues(route, strconv.Itoa(code)).Observe(took.Seconds())
}
