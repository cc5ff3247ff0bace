// Package boss is the connector for the BOSS report API of FEEDS.md: it reads the day's
// roster from GET {base}/counters and pulls every feed of every counter from
// GET {base}/reports/{feed} — about 20,000 pulls for a city — through the faults a real
// BOSS throws.
//
// Requests go out over one kept-alive connection pool, at most Config.Concurrency at a
// time. An attempt that fails transiently — a 5xx, a timeout, a reset connection, a body
// cut short (fewer bytes than its Content-Length, or no 合计/TOTAL footer as its last
// line) — is tried again after an exponential backoff with jitter; a 429 (or 503) is tried
// again after its Retry-After. A retry waits on a timer, not in a worker, so the other
// pulls go on meanwhile. 401, 403, 404 and the other 4xx are not retried. A pull that
// still fails is reported in Day.Missing (FEED_MISSING for that counter) and the run goes
// on.
//
// A redirect is followed only to the base's scheme, host and port (sameOrigin): the token
// is never sent anywhere else and an https base is never followed to http. A refused
// redirect fails the attempt for good, its target named in the reason.
//
// A body, after decompression (net/http takes off a gzip Content-Encoding; any other is
// refused), is bounded by Config.MaxPullBytes, 64 MiB by default: a larger one fails its
// pull for good (FEED_MISSING; the roster: the run), read no further. Bodies that pass
// 64 KiB share a budget of Config.MaxInFlightBytes (512 MiB) in buffers reused from one to
// the next, so 32 concurrent gzip bombs or endless bodies cost about the budget (measured:
// 550 MiB of heap), not 32 × the limit.
//
// The roster must end with a 合计,N footer counting its rows; a roster without it, or
// otherwise not whole, is retried like a transient failure and then fails the Fetch.
//
// Bodies are decoded as they stream in: GBK (GB18030) when the Content-Type says so, as
// they are otherwise; package dialect reads them later like any file. When the context of
// Fetch carries a connectors.Keeper (the run store's, connectors.WithKeeper), each body that
// passed every check is handed to it at once and the input keeps only its reader, so the
// day's bodies are not held in memory until the engine reads them.
package boss

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"settle/connectors"
	"settle/feed"
)

// Source pulls a day from the BOSS report API. It is safe for concurrent use; each Fetch
// is independent.
type Source struct {
	cfg    Config
	base   *url.URL
	shown  string // Describe: the base without user info
	client *http.Client
	tr     *http.Transport
	budget *budget // bytes of bodies in flight, all workers together
	log    *slog.Logger
	jitter func() float64

	// afterFunc schedules f after d (time.AfterFunc); tests replace it to record waits.
	afterFunc func(d time.Duration, f func())
	now       func() time.Time
}

var _ connectors.Source = (*Source)(nil)

// RetryProgress is an optional ability of a connectors.Progress: one that can also show
// how many retries and failed pulls a stage has had implements it, and Fetch calls
// StepRetries in place of Step.
type RetryProgress interface {
	StepRetries(what string, done, total, retries, failures int)
}

// New returns a source for cfg after validating it and reading its CA file.
func New(cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, _ := parseBase(cfg.Base)
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %q: no PEM certificate in it", cfg.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   min(cfg.PullTimeout, 30*time.Second),
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:   true,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: min(cfg.PullTimeout, 15*time.Second),
		// As many connections as requests in flight, kept alive between them; never more
		// (a worker may ask before the connection it just used is back in the pool).
		MaxIdleConns:          cfg.Concurrency,
		MaxIdleConnsPerHost:   cfg.Concurrency,
		MaxConnsPerHost:       cfg.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	jitter := cfg.Jitter
	if jitter == nil {
		jitter = rand.Float64
	}
	return &Source{
		cfg: cfg, base: base, shown: redact(base),
		client:    &http.Client{Transport: tr, CheckRedirect: sameOrigin},
		tr:        tr,
		budget:    newBudget(cfg.MaxInFlightBytes, cfg.MaxPullBytes),
		log:       log,
		jitter:    jitter,
		afterFunc: func(d time.Duration, f func()) { time.AfterFunc(d, f) },
		now:       time.Now,
	}, nil
}

// maxRedirects is how many redirects one attempt follows (net/http's own default).
const maxRedirects = 10

// redirectError is a redirect refused by sameOrigin; the attempt is not tried again.
type redirectError struct {
	to string // the target as shown: without user info, query or fragment
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("redirect to %s refused: only the base's scheme, host and port are followed", e.to)
}

// sameOrigin is the client's CheckRedirect: a redirect is followed only to the scheme,
// host and port of the first request (the base's), so the token (and the base's user
// info) is never sent anywhere else and an https base is never followed to http.
// net/http alone would follow any redirect and, to the same host name on another port or
// scheme, send the Authorization header along.
func sameOrigin(req *http.Request, via []*http.Request) error {
	from := via[0].URL
	if !strings.EqualFold(req.URL.Scheme, from.Scheme) || !strings.EqualFold(hostPort(req.URL), hostPort(from)) {
		return &redirectError{to: redact(req.URL)}
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	return nil
}

// hostPort returns u's host and port, the port filled in from the scheme when absent.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Describe returns the base URL without user info: never a secret.
func (s *Source) Describe() string { return s.shown }

// Fetch reads date's roster, then pulls every feed of every counter on it. Inputs are
// named "<feed>/<counter_id>", sorted by feed then name; pulls that failed are in
// Day.Missing with the counter's city and outlet (the job logs each); Day.Stats counts per
// feed the pulls, their retries, the pulls that failed and the bytes received of those
// delivered (as sent, before decoding).
//
// Fetch fails when ctx ends, when the roster cannot be read or lists no counter, and when
// not one pull succeeded (the BOSS answers nothing useful: there is nothing to publish).
func (s *Source) Fetch(ctx context.Context, date time.Time, progress connectors.Progress) (*connectors.Day, error) {
	return s.fetch(ctx, date, nil, progress)
}

// FetchCounters is Fetch pulling the feeds of counters only (connectors.CounterFetcher): the
// roster is read whole (the Day's Roster is all of it), and a counter not on it is an error.
func (s *Source) FetchCounters(ctx context.Context, date time.Time, counters []string, progress connectors.Progress) (*connectors.Day, error) {
	only := make(map[string]bool, len(counters))
	for _, c := range counters {
		only[c] = true
	}
	return s.fetch(ctx, date, only, progress)
}

// fetch is Fetch of the counters in only (nil: every counter on the roster).
func (s *Source) fetch(ctx context.Context, date time.Time, only map[string]bool, progress connectors.Progress) (*connectors.Day, error) {
	start := s.now()
	defer s.tr.CloseIdleConnections()
	defer s.budget.drop()
	day := date.Format("2006-01-02")
	pctx := ctx
	if s.cfg.Deadline > 0 {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeoutCause(ctx, s.cfg.Deadline, fmt.Errorf("the deadline of %v passed", s.cfg.Deadline))
		defer cancel()
	}
	roster, err := s.roster(pctx, day)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("roster of %s: %w", day, err)
	}
	s.log.Info("roster read", "date", day, "counters", len(roster), "pulls", len(roster)*int(feed.Count))
	if only != nil {
		on := map[string]bool{}
		for _, c := range roster {
			on[c.Counter] = true
		}
		var unknown []string
		for c := range only {
			if !on[c] {
				unknown = append(unknown, c)
			}
		}
		if len(unknown) > 0 {
			slices.Sort(unknown)
			return nil, fmt.Errorf("counters %s are not on the roster of %s", strings.Join(unknown, ", "), day)
		}
	}

	pulls, err := s.pullAll(pctx, day, roster, only, connectors.KeeperFrom(ctx), progress)
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}

	out := &connectors.Day{Roster: roster}
	ok := 0
	var last *pull
	for i := range pulls {
		p := &pulls[i]
		st := &out.Stats[p.feed]
		st.Pulls++
		st.Retries += max(p.tries-1, 0)
		c := roster[p.ctr]
		name := p.feed.String() + "/" + c.Counter
		if p.ok {
			ok++
			st.Bytes += p.raw
			in := connectors.Input{Feed: p.feed, Name: name, Counter: c.Counter, Pull: true, Format: connectors.CSV,
				Open: p.open, Kept: p.kept, Size: p.size}
			if p.open == nil {
				in.Open = connectors.Bytes(p.data)
			}
			out.Inputs = append(out.Inputs, in)
			continue
		}
		st.Failures++
		last = p
		reason := p.reason(s.cfg.Deadline)
		out.Missing = append(out.Missing, connectors.Missing{
			Feed: p.feed, Counter: c.Counter, City: c.City, Outlet: c.Outlet, Reason: reason, Why: p.why(s.cfg.Deadline),
		})
		s.log.Debug("pull failed", "feed", p.feed.String(), "counter", c.Counter, "tries", p.tries, "err", reason)
	}
	if ok == 0 {
		return nil, fmt.Errorf("no pull of %s succeeded; %s", day, last.reason(s.cfg.Deadline))
	}
	connectors.SortInputs(out.Inputs)
	slices.SortFunc(out.Missing, func(a, b connectors.Missing) int {
		if a.Feed != b.Feed {
			return int(a.Feed - b.Feed)
		}
		return strings.Compare(a.Counter, b.Counter)
	})
	var retries, failures int
	var bytes int64
	for _, st := range out.Stats {
		retries += st.Retries
		failures += st.Failures
		bytes += st.Bytes
	}
	s.log.Info("pulled", "date", day, "pulls", len(pulls), "retries", retries, "failures", failures,
		"bytes", bytes, "took", s.now().Sub(start).Round(time.Millisecond))
	return out, nil
}

// pull is one feed of one counter.
type pull struct {
	feed  feed.ID
	ctr   int    // index in the roster
	url   string // the request URL
	path  string // the request as shown: reports/{feed}?counter=…&date=…
	tries int
	done  bool   // finished, successfully or not
	ok    bool   // the body is in data
	data  []byte // decoded body, when not kept
	raw   int64  // bytes received
	// The body as a connectors.Keeper kept it (then data is nil): its sha256, length and
	// reader.
	kept string
	size int64
	open func() (io.ReadCloser, error)
	err  error // the last failure
}

// reason says why a failed pull is missing, for FEED_MISSING's detail.
func (p *pull) reason(deadline time.Duration) string {
	tries := "1 try"
	if p.tries != 1 {
		tries = fmt.Sprintf("%d tries", p.tries)
	}
	switch {
	case !p.done && p.err == nil:
		return fmt.Sprintf("GET %s: not pulled before the deadline of %v", p.path, deadline)
	case !p.done:
		return fmt.Sprintf("GET %s: %v (%s; then the deadline of %v passed)", p.path, p.err, tries, deadline)
	}
	return fmt.Sprintf("GET %s: %v (%s)", p.path, p.err, tries)
}

// why is reason in parts, for the engine to say in the run's language.
func (p *pull) why(deadline time.Duration) connectors.Why {
	w := connectors.Why{Kind: connectors.WhyPullFailed, Request: p.path, Err: p.err, Tries: p.tries}
	switch {
	case !p.done && p.err == nil:
		w = connectors.Why{Kind: connectors.WhyPullNotDone, Request: p.path, Deadline: deadline}
	case !p.done:
		w.Kind, w.Deadline = connectors.WhyPullLate, deadline
	}
	return w
}

// pullAll pulls every feed of every counter, at most Config.Concurrency at once. A pull to
// be retried waits on a timer and then goes back into the queue, so no slot sleeps. When
// ctx ends (the deadline) the pulls not done are returned as they are.
//
// With a keeper, each body is kept through it as it arrives and the pull holds only its
// reader (the workers' buffers are reused from one body to the next); a body the keeper
// fails to keep is held as without one (the job's store.Keep then meets the same trouble
// and says so).
func (s *Source) pullAll(ctx context.Context, day string, roster []connectors.Counter, only map[string]bool, keeper connectors.Keeper, progress connectors.Progress) ([]pull, error) {
	var rels, urls [feed.Count]string // per feed: reports/{feed}, and its URL
	for _, f := range feed.All {
		rels[f] = "reports/" + f.String()
		urls[f] = s.base.JoinPath(rels[f]).String()
	}
	pulls := make([]pull, 0, len(roster)*int(feed.Count))
	for i, c := range roster {
		if only != nil && !only[c.Counter] {
			continue
		}
		q := "?counter=" + url.QueryEscape(c.Counter) + "&date=" + day
		for _, f := range feed.All {
			pulls = append(pulls, pull{feed: f, ctr: i, url: urls[f] + q, path: rels[f] + q})
		}
	}
	total := len(pulls)
	// Every pull is in the queue or on a timer at most once, so sends never block.
	queue := make(chan *pull, total)
	for i := range pulls {
		queue <- &pulls[i]
	}
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		finished, succeeded, failed, retried atomic.Int64
		allDone                              = make(chan struct{})
		gaveUp                               atomic.Pointer[pull] // the pull that made us give up
	)
	rp, _ := progress.(RetryProgress)
	// Stop early when the first pulls all fail for good: the BOSS is down or refuses us,
	// and waiting out every pull's retries would only delay the error.
	giveUpAfter := int64(max(2*s.cfg.Concurrency, 64))
	finish := func(p *pull) {
		p.done = true
		if p.ok {
			succeeded.Add(1)
		} else if n := failed.Add(1); n == giveUpAfter && succeeded.Load() == 0 {
			gaveUp.Store(p)
			cancel(errNothingPulled)
		}
		done := int(finished.Add(1))
		switch {
		case rp != nil:
			rp.StepRetries("pull", done, total, int(retried.Load()), int(failed.Load()))
		case progress != nil:
			progress.Step("pull", done, total)
		}
		if done == total {
			close(allDone)
		}
	}
	requeue := func(p *pull) {
		select {
		case queue <- p:
		case <-wctx.Done():
		}
	}

	// attempt tries p once with w's buffers; a failure worth retrying goes back into the
	// queue after its wait.
	attempt := func(p *pull, w *worker) {
		res := s.get(wctx, p.url, w, true)
		p.tries++
		if res.err == nil {
			p.ok, p.raw, p.err = true, res.raw, nil
			if keeper != nil {
				name := p.feed.String() + "/" + roster[p.ctr].Counter
				sum, open, err := keeper.Keep(name, w.out)
				if err == nil {
					p.kept, p.size, p.open = sum, int64(len(w.out)), open
					w.reuse()
					finish(p)
					return
				}
				s.log.Warn("pulled body not kept as it arrived", "input", name, "err", err)
				p.data = bytes.Clone(w.out) // own is the next body's
				w.reuse()
				finish(p)
				return
			}
			p.data = w.keep()
			finish(p)
			return
		}
		p.err = res.err
		if !res.retry || p.tries > s.cfg.Retries || wctx.Err() != nil {
			finish(p)
			return
		}
		wait := s.wait(p.tries, res)
		if dl, ok := wctx.Deadline(); ok && s.now().Add(wait).After(dl) {
			finish(p) // it could not be tried again in time
			return
		}
		retried.Add(1)
		s.log.Debug("retry", "feed", p.feed.String(), "counter", roster[p.ctr].Counter, "try", p.tries,
			"wait", wait, "err", res.err)
		s.afterFunc(wait, func() { requeue(p) })
	}
	// Each attempt runs in the group, at most Concurrency at once, with the buffers of a
	// free worker (there are as many workers as the limit, so one is always free).
	limit := min(s.cfg.Concurrency, total)
	workers := make(chan *worker, limit)
	for range limit {
		w := newWorker()
		w.stream = keeper != nil
		workers <- w
	}
	var g errgroup.Group
	g.SetLimit(limit)
dispatch:
	for {
		select {
		case <-allDone:
			break dispatch
		case <-wctx.Done():
			break dispatch
		case p := <-queue:
			g.Go(func() error {
				if wctx.Err() != nil { // the deadline passed while it waited: not pulled
					return nil
				}
				w := <-workers
				attempt(p, w)
				workers <- w
				return nil
			})
		}
	}
	cancel(nil)
	g.Wait()
	if p := gaveUp.Load(); p != nil && errors.Is(context.Cause(wctx), errNothingPulled) {
		return nil, fmt.Errorf("gave up after the first %d pulls of %s all failed; %s", giveUpAfter, day, p.reason(s.cfg.Deadline))
	}
	return pulls, nil
}

var errNothingPulled = errors.New("no pull succeeded")

// wait returns how long to wait before try n+1 after res: the Retry-After the server
// asked for (capped) plus up to one BackoffBase of jitter, or else the backoff.
func (s *Source) wait(n int, res result) time.Duration {
	if res.hasRetryAfter {
		return min(res.retryAfter, s.cfg.MaxRetryAfter) + time.Duration(s.jitter()*float64(s.cfg.BackoffBase))
	}
	return backoff(s.cfg.BackoffBase, s.cfg.BackoffMax, n, s.jitter())
}

// backoff returns the wait before retry n (n ≥ 1): d = base·2ⁿ⁻¹ capped at max, and of
// it half plus a jittered half ("equal jitter": never less than d/2, so retries spread
// out without ever coming back at once).
func backoff(base, maxWait time.Duration, n int, jitter float64) time.Duration {
	d := base
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	return d/2 + time.Duration(jitter*float64(d/2))
}

// sleep waits d or until ctx ends.
func (s *Source) sleep(ctx context.Context, d time.Duration) error {
	ch := make(chan struct{})
	s.afterFunc(d, func() { close(ch) })
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
