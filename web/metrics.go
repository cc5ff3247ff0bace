package web

import (
	"net/http"
	"time"
)

// The page's metrics (issue 16): Config.Metrics counts logins, runs started and request
// durations, and /metrics serves them with the Go runtime's and the process's. /metrics needs
// no login, like /healthz: it says how many, never who or what; keep it off the public side
// of the proxy if even that is too much.

// metricsHandler serves /metrics, or 404 when the server counts nothing.
func (s *Server) metricsHandler() http.Handler {
	if s.cfg.Metrics == nil {
		return http.NotFoundHandler()
	}
	return s.cfg.Metrics.Handler()
}

// observe counts a request the access log has just written: its duration by the route
// pattern that matched (never the raw path), and a login by its answer.
func (s *Server) observe(r *http.Request, status int, took time.Duration) {
	m := s.cfg.Metrics
	if m == nil {
		return
	}
	m.Request(r.Pattern, status, took)
	if r.Pattern == "POST /login" {
		m.Login(status)
	}
}
