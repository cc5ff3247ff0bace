package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"settle/job"
	"settle/report"
	"settle/store"
	"settle/web"
)

// serveCommand is `settle serve`: the clerks' one-click pages (package web).
func serveCommand(stderr io.Writer) *cli.Command {
	def := web.NewConfig()
	return &cli.Command{
		Name:      "serve",
		Usage:     "serve the one-click settlement pages: clerks run and certify, reviewers approve, auditors compare",
		UsageText: "settle serve --addr 127.0.0.1:8080 --store DIR [--source SRC] [--users FILE] [options]",
		Description: "Pages in Chinese (English on request) for the hall's intranet. A clerk settles a day with one\n" +
			"click and certifies their counter; the reviewer of the outlet approves it, which locks the\n" +
			"counter-day; an auditor browses runs, manifests and the diff of any two. Users come from\n" +
			"--users (default <store>/users.json; see `settle users add`). Sign-offs are appended to\n" +
			"<store>/workflow.db (SQLite, WAL; a <store>/signoff.log of an older version is imported on\n" +
			"first start and kept), each event chained and MACed with <store>/signoff.key; the session key is\n" +
			"<store>/web.secret (both made on first start, mode 0600; keep signoff.key with the log).\n" +
			"SIGINT or SIGTERM stops it gracefully: requests in flight finish, a run going on is abandoned\n" +
			"(it publishes nothing).",
		Flags: append(engineFlags(), []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Usage: "address to listen on (port 0: any free port)"},
			&cli.StringFlag{Name: "store", Value: defaultStore(), Usage: "run store directory (env SETTLE_STORE)"},
			&cli.StringFlag{Name: "source", Value: "demo", Usage: "where the one-click run fetches the day, as for settle run: a directory, an http(s):// BOSS API URL, or demo[?...]"},
			&cli.StringFlag{Name: "users", Usage: "users file (default <store>/users.json)"},
			&cli.StringFlag{Name: "lang", Value: "zh", Usage: "language of the rendered reports, exception details and reject reasons: zh or en"},
			&cli.DurationFlag{Name: "lock-timeout", Value: 10 * time.Minute, Usage: "how long a run waits for another run of the same date"},
			&cli.DurationFlag{Name: "session-ttl", Value: def.SessionTTL, Usage: "how long a login lasts"},
			&cli.IntFlag{Name: "clerk-run-days", Value: def.ClerkRunDays, Usage: "a clerk may start runs of dates from today (Asia/Shanghai) less `DAYS` through today"},
			&cli.IntFlag{Name: "reviewer-run-days", Value: def.ReviewerRunDays, Usage: "a reviewer may start runs of dates from today less `DAYS` through today"},
			&cli.IntFlag{Name: "sla-days", Value: def.SLADays, Usage: "an item or counter-day older than `DAYS` and not closed is overdue"},
			&cli.StringFlag{Name: "tls-cert", Usage: "serve HTTPS with this certificate (PEM); cookies are then Secure"},
			&cli.StringFlag{Name: "tls-key", Usage: "the certificate's private key (PEM)"},
			&cli.BoolFlag{Name: "secure-cookies", Usage: "mark cookies Secure (behind an HTTPS proxy)"},
			&cli.StringFlag{Name: "trusted-proxy", Usage: "reverse proxies (`CIDR[,CIDR]`) whose X-Forwarded-For names the client; none by default"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "quiet", Usage: "only warnings in the log (no access log)"},
			&cli.StringFlag{Name: "config", Usage: "config file of key = value lines (keys are these flags' names); flags win"},
		}...),
		Action: func(c *cli.Context) error {
			if p := c.String("config"); p != "" {
				if err := applyConfig(c, p); err != nil {
					return err
				}
			}
			opts, err := webOptionsFrom(c, stderr)
			if err != nil {
				return err
			}
			return serveWeb(c.Context, opts, c.App.Writer)
		},
	}
}

type webOptions struct {
	addr, storeDir    string
	tlsCert, tlsKey   string
	cfg               web.Config
	log               *slog.Logger
	shutdownDeadline  time.Duration
	readHeaderTimeout time.Duration
}

func webOptionsFrom(c *cli.Context, stderr io.Writer) (*webOptions, error) {
	log, err := newLogger(stderr, c.String("log-format"), c.Bool("quiet"))
	if err != nil {
		return nil, err
	}
	now, err := job.Clock()
	if err != nil {
		return nil, usageError{err}
	}
	ecfg, err := engineConfigFrom(c)
	if err != nil {
		return nil, err
	}
	// The pages serve both reports of every counter: both formats, always.
	render, err := rendererFrom("xlsx,pdf", c.String("lang"), nil)
	if err != nil {
		return nil, err
	}
	src, err := sourceFrom(c.String("source"), pullOptionsFrom(c), log)
	if err != nil {
		return nil, err
	}
	o := &webOptions{addr: c.String("addr"), storeDir: c.String("store"), log: log,
		tlsCert: c.String("tls-cert"), tlsKey: c.String("tls-key"),
		shutdownDeadline: 15 * time.Second, readHeaderTimeout: 10 * time.Second}
	if o.addr == "" {
		return nil, usagef("--addr: required, e.g. 127.0.0.1:8080")
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, usagef("--tls-cert and --tls-key go together")
	}
	cfg := web.NewConfig()
	cfg.UsersFile = c.String("users")
	if cfg.UsersFile == "" {
		cfg.UsersFile = filepath.Join(o.storeDir, "users.json")
	}
	cfg.Job = job.Config{Source: src, Engine: ecfg, Render: render, LockTimeout: c.Duration("lock-timeout"),
		FailOn: "never", Log: log, Now: now}
	cfg.Log = log
	cfg.SessionTTL = c.Duration("session-ttl")
	cfg.ClerkRunDays, cfg.ReviewerRunDays = c.Int("clerk-run-days"), c.Int("reviewer-run-days")
	cfg.SLADays = c.Int("sla-days")
	cfg.CertOptions.Lang = c.String("lang")
	cfg.Certified = report.Certified // the certified report: the run's PDF with the items and the sign-off
	if cfg.TrustedProxies, err = web.ParseProxies(c.String("trusted-proxy")); err != nil {
		return nil, usagef("--trusted-proxy %q: %v", c.String("trusted-proxy"), err)
	}
	cfg.SecureCookies = c.Bool("secure-cookies") || o.tlsCert != ""
	o.cfg = cfg
	return o, nil
}

// serveWeb serves the pages until ctx ends (SIGINT, SIGTERM), then lets the requests in
// flight finish, abandons any run going on and closes the sign-off log.
func serveWeb(ctx context.Context, o *webOptions, stdout io.Writer) error {
	st, err := store.Open(o.storeDir)
	if err != nil {
		return err
	}
	o.cfg.Store = st
	if err := o.cfg.Validate(); err != nil {
		return usageError{err}
	}
	if _, err := os.Stat(o.cfg.UsersFile); errors.Is(err, fs.ErrNotExist) {
		return usagef("--users %q: no such file: add a user first with `settle users add NAME --role clerk|reviewer|auditor`", o.cfg.UsersFile)
	}
	srv, err := web.New(o.cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usagef("--addr %s: %v", o.addr, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: o.readHeaderTimeout,
		ReadTimeout:       time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(slogWriter{o.log}, "", 0),
	}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "serving %s://%s (store %s, users %s)\n", scheme, ln.Addr(), o.storeDir, o.cfg.UsersFile)
	serve := func() error { return hs.Serve(ln) }
	if o.tlsCert != "" {
		serve = func() error { return hs.ServeTLS(ln, o.tlsCert, o.tlsKey) }
	}
	return serveUntil(ctx, hs, serve, o.shutdownDeadline, func() { o.log.Info("shutting down") })
}

// serveUntil runs serve (hs serving its listener) until it fails or ctx ends (SIGINT,
// SIGTERM); then, after stopping, it shuts hs down, giving the requests in flight grace to
// finish, and closes it when they do not.
func serveUntil(ctx context.Context, hs *http.Server, serve func() error, grace time.Duration, stopping func()) error {
	done := make(chan error, 1)
	go func() { done <- serve() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	stopping()
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// slogWriter sends net/http's own complaints (TLS handshakes, bad requests) to the log.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(b []byte) (int, error) {
	w.log.Warn("http server", "msg", string(b))
	return len(b), nil
}
