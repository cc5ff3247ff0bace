// Package web is `settle serve`: the pages of the hall's intranet where a clerk settles a day
// with one click and certifies their counter's report, a reviewer approves it (which locks the
// counter-day), and an auditor browses the runs, their manifests and the diff of any two.
//
// Pages are rendered on the server with html/template; the CSS and the few lines of script
// (progress polling) are embedded, so the binary works offline. Chinese by default, English
// on request.
//
// Security, in one place:
//   - sessions are HMAC-signed, HttpOnly, SameSite=Strict cookies keyed by a secret kept in
//     the store (web.secret, mode 0600, made on first start); they end after SessionTTL, on
//     logout (kept in the store, web.revoked: a restart does not bring a session back), and
//     when the user's password changes or the user is removed;
//   - every form carries a CSRF token bound to the session (the login form one bound to a
//     cookie); a POST without it is refused with 403;
//   - every handler checks the role and the counter/outlet scope on the server, before it
//     looks anything up: a clerk who types another counter's URL gets 403;
//   - a clerk starts runs only of recent dates (ClerkRunDays, a reviewer ReviewerRunDays),
//     nobody of a future date;
//   - downloads are served only from the run store, from ids checked against
//     [A-Za-z0-9_-]{1,32} and run ids against the store's own check, and only when the file's
//     sha256 is the one its manifest (and a sign-off, when pinned) records;
//   - failed logins are slowed down per user name and per address (the client's behind a
//     trusted proxy), counted before the password is checked; an unknown name costs a bcrypt
//     comparison like a known one;
//   - responses carry a strict Content-Security-Policy (no inline script, no other origin);
//   - the workflow log (package workflow: items, sign-offs, logins, runs started) is chained and
//     MACed under its own key (signoff.key), and what a sign-off pinned is served only while
//     its sha256 still holds; an older sign-off log (package signoff) is imported once.
//
// The period lock: a clerk's certification and a reviewer's approval pin the run they saw.
// While a counter-day is certified or approved its page and downloads are that run's, even
// after later runs of the date publish; a reviewer's return or reopening (with a comment, in
// the log) lets the counter show the date's current run again.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"time"

	"settle/engine"
	"settle/job"
	"settle/metrics"
	"settle/money"
	"settle/report"
	"settle/store"
	"settle/web/users"
	"settle/workflow"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config of a Server.
type Config struct {
	Store *store.Store
	// UsersFile is the users file (package users); it is read again when it changes.
	UsersFile string
	// Job is the template of a one-click run: Source, Engine, Render, LockTimeout, FailOn and
	// Now as `settle run` would set them. Date, Store and Progress are filled per run.
	Job job.Config
	// Log receives the access log and the server's own records.
	Log *slog.Logger
	// Now is the clock of sessions, sign-offs and the default date (yesterday).
	Now func() time.Time
	// SessionTTL is how long a login lasts.
	SessionTTL time.Duration
	// SecureCookies marks the cookies Secure: set it when the pages are served over HTTPS.
	SecureCookies bool
	// LoginFailures failed logins of one user name, or 4× as many from one address, cost
	// nothing; each further one makes the next attempt wait LoginDelay doubled per failure
	// past them, at most LoginWindow. Failures are forgotten after LoginWindow without one,
	// on a login, and on `settle users unlock` (see limiter).
	LoginFailures int
	LoginDelay    time.Duration
	LoginWindow   time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed (see
	// clientIP); none by default: the peer's address is the client's.
	TrustedProxies []netip.Prefix
	// MaxRuns bounds the runs going on at once (each takes a date's lock in the store).
	MaxRuns int
	// ClerkRunDays and ReviewerRunDays bound how far back a clerk or a reviewer may start a
	// run: dates from today (Asia/Shanghai) less that many days through today. Nobody may
	// start a run of a future date.
	ClerkRunDays, ReviewerRunDays int
	// Metrics counts the page's figures and serves them on /metrics (web/metrics.go); nil
	// serves 404 there and counts nothing.
	Metrics *metrics.Web
	// Workflow is the workflow database (items, sign-offs, the log); nil: New opens
	// <store>/workflow.db itself (and Close closes it).
	Workflow *workflow.DB
	// SLADays: an item or counter-day older than this and not closed is overdue.
	SLADays int
	// QueueDays is how far back the clerk's and reviewer's queues look (90).
	QueueDays int
	// Certified renders the certified report of a counter (package report's
	// CertifiedPDF); nil: certifying pins the run's own PDF and no certified report is made.
	Certified func(run *store.Stored, outlet, counter string, items []CertItem, sign SignBlock, opts report.Options) ([]byte, error)
	// CertOptions are the options the certified report is rendered with.
	CertOptions report.Options
}

// NewConfig returns the defaults: 12-hour sessions, 5 failures per 15 minutes, one run at
// a time, clerks running the last 31 days and reviewers the last 366.
func NewConfig() Config {
	return Config{
		Now:           time.Now,
		SessionTTL:    12 * time.Hour,
		LoginFailures: 5,
		LoginDelay:    time.Second,
		LoginWindow:   15 * time.Minute,
		MaxRuns:       1,

		ClerkRunDays:    31,
		ReviewerRunDays: 366,
		Metrics:         metrics.NewWeb(),
		SLADays:         workflow.DefaultSLADays,
		QueueDays:       90,
		CertOptions:     report.NewOptions(),
	}
}

// Validate checks the configuration; errors name the field.
func (c *Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("store: required")
	case c.UsersFile == "":
		return errors.New("users: a users file is required (settle users add)")
	case c.Job.Source == nil:
		return errors.New("source: required")
	case c.Job.Render == nil:
		return errors.New("render: the pages serve the XLSX and PDF reports: a renderer is required")
	case c.SessionTTL < time.Minute:
		return fmt.Errorf("session ttl %s: at least one minute", c.SessionTTL)
	case c.LoginFailures < 1:
		return fmt.Errorf("login failures %d: at least 1", c.LoginFailures)
	case c.LoginDelay <= 0:
		return fmt.Errorf("login delay %s: must be positive", c.LoginDelay)
	case c.LoginWindow < c.LoginDelay:
		return fmt.Errorf("login window %s: at least the login delay %s", c.LoginWindow, c.LoginDelay)
	case c.MaxRuns < 1:
		return fmt.Errorf("max runs %d: at least 1", c.MaxRuns)
	case c.ClerkRunDays < 0:
		return fmt.Errorf("clerk-run-days %d: 0 (today only) or more", c.ClerkRunDays)
	case c.ReviewerRunDays < 0:
		return fmt.Errorf("reviewer-run-days %d: 0 (today only) or more", c.ReviewerRunDays)
	case c.SLADays < 0:
		return fmt.Errorf("sla-days %d: 0 or more", c.SLADays)
	case c.QueueDays < 1:
		return fmt.Errorf("queue days %d: at least 1", c.QueueDays)
	}
	return nil
}

// Server serves the pages. Close it to stop its runs and close the sign-off log.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	secret  []byte
	users   *userSource
	wf      *workflow.DB
	ownWF   bool
	runs    *runner
	cache   *runCache
	pages   map[string]*template.Template
	limiter *limiter
	revoked *revocations
	handler http.Handler
	pbuilds *periodBuilds // period reports being built from the page (pages_period.go)
}

// Files of the server in the store, both mode 0600 and made on first start: the key of the
// session cookies and CSRF tokens, and the key of the sign-off log's line MACs. Removing
// web.secret ends every session; signoff.key must be kept with signoff.log.
const (
	SecretName     = "web.secret"
	SignoffKeyName = "signoff.key"
)

// New opens the server's state in the store (the secret, created on first start, and the
// sign-off log) and reads the users file.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	secret, err := loadSecret(filepath.Join(cfg.Store.Dir(), SecretName))
	if err != nil {
		return nil, err
	}
	us, err := newUserSource(cfg.UsersFile)
	if err != nil {
		return nil, err
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	// The log's key is its own (signoff.key), so that a new session secret (every login
	// ends) leaves the log readable. The workflow database replaces the sign-off log, which
	// it imports on first open (package workflow).
	wf, own := cfg.Workflow, false
	if wf == nil {
		if _, err := loadSecret(filepath.Join(cfg.Store.Dir(), SignoffKeyName)); err != nil {
			return nil, err
		}
		sla := cfg.SLADays
		if sla == 0 {
			sla = -1 // zero days, not the default
		}
		wf, err = workflow.Open(cfg.Store.Dir(), workflow.Options{Log: cfg.Log, Now: cfg.Now, SLADays: sla})
		if err != nil {
			return nil, err
		}
		own = true
	}
	revoked, err := openRevocations(filepath.Join(cfg.Store.Dir(), RevokedName), cfg.Now, cfg.Log)
	if err != nil {
		if own {
			wf.Close()
		}
		return nil, err
	}
	s := &Server{
		cfg: cfg, log: cfg.Log, now: cfg.Now, secret: secret, users: us, wf: wf, ownWF: own,
		cache: newRunCache(8), pages: pages,
		limiter: newLimiter(cfg.LoginDelay, cfg.LoginWindow, cfg.Now),
		revoked: revoked,
		pbuilds: &periodBuilds{m: map[string]*periodBuild{}},
	}
	s.runs = newRunner(s)
	us.mu.Lock()
	us.loaded = s.recordUsers
	s.recordUsers(us.file) // changes made while the server was down (users.go)
	us.mu.Unlock()
	s.handler = s.routes()
	return s, nil
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close cancels the runs going on (they publish nothing), waits for them and closes the
// sign-off log. Call it after http.Server.Shutdown.
func (s *Server) Close() error {
	s.runs.stop()
	if s.ownWF {
		return s.wf.Close()
	}
	return nil
}

// WaitRuns waits until no run is going on or ctx ends.
func (s *Server) WaitRuns(ctx context.Context) error { return s.runs.wait(ctx) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	fileServer := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.page(s.logout))
	mux.HandleFunc("GET /lang/{lang}", s.setLang)

	mux.HandleFunc("GET /{$}", s.page(s.home))
	mux.HandleFunc("GET /day", s.page(s.pickDate))
	mux.HandleFunc("GET /day/{date}", s.page(s.day))
	mux.HandleFunc("POST /day/{date}/run", s.page(s.startRun))
	mux.HandleFunc("GET /day/{date}/status", s.api(s.runStatus))
	mux.HandleFunc("GET /day/{date}/c/{outlet}/{counter}", s.page(s.counter))
	mux.HandleFunc("POST /day/{date}/c/{outlet}/{counter}/{action}", s.page(s.signoffAction))
	mux.HandleFunc("GET /day/{date}/c/{outlet}/{counter}/{run}/{file}", s.api(s.download))
	mux.HandleFunc("GET /audit/{date}/runs/{run}", s.page(s.auditRun))
	mux.HandleFunc("GET /audit/{date}/diff", s.page(s.auditDiff))
	mux.HandleFunc("GET /audit/{date}/diff.xlsx", s.api(s.auditDiffXLSX))
	mux.HandleFunc("GET /audit/log", s.page(s.auditLog))
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("GET /queue", s.page(s.queue))
	mux.HandleFunc("GET /queue/export/{ext}", s.api(s.queueDownload))
	mux.HandleFunc("POST /queue/upload", s.upload(s.queueUpload))
	mux.HandleFunc("POST /item/{id}/{action}", s.page(s.itemAction))
	mux.HandleFunc("POST /day/{date}/c/{outlet}/{counter}/ackall", s.page(s.ackAll))
	mux.HandleFunc("POST /day/{date}/c/{outlet}/{counter}/refresh", s.page(s.refresh))
	mux.HandleFunc("GET /audit/items", s.page(s.auditItems))
	mux.HandleFunc("GET /audit/items/export/{ext}", s.api(s.auditItemsDownload))
	mux.HandleFunc("GET /period", s.page(s.periodHome))
	mux.HandleFunc("GET /period/{month}", s.page(s.periodPageView))
	mux.HandleFunc("POST /period/{month}/{action}", s.page(s.periodAction))
	mux.HandleFunc("GET /period/{month}/file/{run}/{file...}", s.api(s.periodFileDownload))
	return s.headers(s.accessLog(mux))
}

// headers sets the security headers of every response.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// reqInfo is filled while a request is handled, for its access-log line.
type reqInfo struct{ user string }

type reqInfoKey struct{}

func infoOf(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog writes one structured record per request: never a query's secrets (there are
// none: passwords and tokens travel in POST bodies and cookies only).
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{}
		sw := &statusWriter{ResponseWriter: w}
		inner := r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, ri))
		next.ServeHTTP(sw, inner)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.observe(inner, sw.status, time.Since(start))
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
			slog.Duration("took", time.Since(start)),
			slog.String("remote", s.clientIP(r)), slog.String("user", ri.user))
	})
}

// parseTemplates parses every page with the layout and the shared partials.
func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"yuan":   money.Grouped,
		"signed": signedYuan,
		"neg":    func(v int64) bool { return v < 0 },
		"pos":    func(v int64) bool { return v > 0 },
		"short":  func(s string) string { return shortText(s, 12) },
		"itoa":   strconv.Itoa,
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "error", "clerk", "reviewer", "auditor", "counter", "run", "diff", "log", "queue", "audititems", "period"} {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

func signedYuan(fen int64) string {
	s := money.Grouped(fen)
	if fen > 0 {
		s = "+" + s
	}
	return s
}

func shortText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// today is the current date in Asia/Shanghai, at midnight.
func (s *Server) today() time.Time {
	t := s.now().In(engine.Shanghai)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, engine.Shanghai)
}

// runWindow is the earliest date u may start a run of (the latest is today), and the
// message key that says so; ok is false for a role that runs nothing.
func (s *Server) runWindow(u *users.User) (earliest time.Time, days int, key string, ok bool) {
	switch u.Role {
	case users.Clerk:
		days, key = s.cfg.ClerkRunDays, "err_too_old_clerk"
	case users.Reviewer:
		days, key = s.cfg.ReviewerRunDays, "err_too_old_reviewer"
	default:
		return time.Time{}, 0, "", false
	}
	return s.today().AddDate(0, 0, -days), days, key, true
}

// yesterday is the default business date.
func (s *Server) yesterday() string { return s.today().AddDate(0, 0, -1).Format(time.DateOnly) }
