package boss

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"settle/connectors"
	"settle/feed"
	"settle/fixtures"
	"settle/fixtures/sim"
)

var day1 = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

func genDay(t testing.TB, outlets, counters int) *fixtures.Day {
	t.Helper()
	cfg := fixtures.NewConfig()
	cfg.Date, cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies = day1, outlets, counters, 3, 0.3
	cfg.Layout = fixtures.LayoutCounter
	d, err := fixtures.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// recorder replaces the source's timers: it records every wait and fires at once.
type recorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recorder) after(d time.Duration, f func()) {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	go f()
}

func (r *recorder) got() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

// testSource returns a source for url with small timings, exact jitter and recorded waits.
func testSource(t *testing.T, url string, edit func(*Config)) (*Source, *recorder) {
	t.Helper()
	cfg := NewConfig()
	cfg.Base, cfg.Concurrency = url, 4
	cfg.PullTimeout, cfg.BackoffBase, cfg.BackoffMax, cfg.MaxRetryAfter = 2*time.Second, 100*time.Millisecond, time.Second, 30*time.Second
	cfg.Jitter = func() float64 { return 0.5 }
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	s.afterFunc = rec.after
	return s, rec
}

func serveSim(t *testing.T, d *fixtures.Day, edit func(*sim.Config)) (*httptest.Server, *sim.Server) {
	t.Helper()
	cfg := sim.NewConfig()
	if edit != nil {
		edit(&cfg)
	}
	h, err := sim.New(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, h
}

func gbk(t testing.TB, b []byte) []byte {
	t.Helper()
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readAll(t *testing.T, in connectors.Input) []byte {
	t.Helper()
	rc, err := in.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFetch: a clean day comes back whole: every pull, decoded from GBK, in order, with
// the roster and the stats.
func TestFetch(t *testing.T) {
	d := genDay(t, 3, 2)
	srv, _ := serveSim(t, d, nil)
	s, _ := testSource(t, srv.URL+"/", nil)
	if got := s.Describe(); got != srv.URL+"/" {
		t.Errorf("Describe() = %q", got)
	}
	prog := &progress{}
	day, err := s.Fetch(context.Background(), day1, prog)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(day.Inputs), 6*int(feed.Count); got != want {
		t.Fatalf("%d inputs, want %d", got, want)
	}
	if len(day.Missing) != 0 {
		t.Errorf("missing: %v", day.Missing)
	}
	if fmt.Sprint(day.Roster) != fmt.Sprint(d.Roster()) {
		t.Errorf("roster %v, want %v", day.Roster, d.Roster())
	}
	var wantBytes [feed.Count]int64
	for i, in := range day.Inputs {
		if want := in.Feed.String() + "/" + in.Counter; in.Name != want || !in.Pull || in.Format != connectors.CSV {
			t.Errorf("input %d: %+v", i, in)
		}
		if i > 0 {
			p := day.Inputs[i-1]
			if p.Feed > in.Feed || p.Feed == in.Feed && p.Name >= in.Name {
				t.Errorf("inputs out of order: %q before %q", p.Name, in.Name)
			}
		}
		var raw bytes.Buffer
		if err := fixtures.RenderCSV(&raw, d, in.Feed, in.Counter, fixtures.DialectBOSS); err != nil {
			t.Fatal(err)
		}
		wantBytes[in.Feed] += int64(raw.Len())
		if got, want := readAll(t, in), gbk(t, raw.Bytes()); !bytes.Equal(got, want) {
			t.Errorf("%s: body differs from the rendered report decoded from GBK", in.Name)
		}
		if !bytes.Contains(readAll(t, in), []byte("合计")) {
			t.Errorf("%s: no 合计 in the decoded body", in.Name)
		}
	}
	for _, id := range feed.All {
		want := connectors.FeedStats{Pulls: 6, Bytes: wantBytes[id]}
		if got := day.Stats[id]; got != want {
			t.Errorf("%s: stats %+v, want %+v", id, got, want)
		}
	}
	if prog.calls.Load() != int64(6*feed.Count) || prog.last.Load() != int64(6*feed.Count) {
		t.Errorf("progress: %d calls, last done %d", prog.calls.Load(), prog.last.Load())
	}
}

type progress struct {
	calls, last, retries, failures atomic.Int64
	retryCalls                     atomic.Int64
}

func (p *progress) Step(what string, done, total int) {
	p.calls.Add(1)
	if int64(done) > p.last.Load() {
		p.last.Store(int64(done))
	}
}

type retryProgress struct{ progress }

func (p *retryProgress) StepRetries(what string, done, total, retries, failures int) {
	p.retryCalls.Add(1)
	p.Step(what, done, total)
	p.retries.Store(int64(max(int(p.retries.Load()), retries)))
	p.failures.Store(int64(max(int(p.failures.Load()), failures)))
}

// TestFetchThroughFaults: with many transient faults every pull still arrives whole, and
// the retries are counted.
func TestFetchThroughFaults(t *testing.T) {
	d := genDay(t, 4, 3)
	srv, h := serveSim(t, d, func(c *sim.Config) {
		c.FailRate, c.ThrottleRate, c.TruncateRate, c.RetryAfter = 0.2, 0.1, 0.2, 0
	})
	s, _ := testSource(t, srv.URL, nil)
	prog := &retryProgress{}
	day, err := s.Fetch(context.Background(), day1, prog)
	if err != nil {
		t.Fatal(err)
	}
	if len(day.Missing) != 0 || len(day.Inputs) != 12*int(feed.Count) {
		t.Fatalf("%d inputs, missing %v", len(day.Inputs), day.Missing)
	}
	for _, in := range day.Inputs {
		var raw bytes.Buffer
		if err := fixtures.RenderCSV(&raw, d, in.Feed, in.Counter, fixtures.DialectBOSS); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readAll(t, in), gbk(t, raw.Bytes())) {
			t.Errorf("%s: body differs", in.Name)
		}
	}
	retries := 0
	for _, st := range day.Stats {
		retries += st.Retries
	}
	st := h.Stats()
	faults := st.Failed + st.Throttled + st.Truncated
	if retries == 0 || int64(retries) > faults || st.Requests != int64(len(day.Inputs)+retries)+(faults-int64(retries))+1 {
		t.Errorf("%d retries counted; simulator %+v", retries, st)
	}
	if prog.retryCalls.Load() != int64(len(day.Inputs)) || prog.retries.Load() != int64(retries) || prog.failures.Load() != 0 {
		t.Errorf("retry progress: %d calls, %d retries, %d failures; want %d, %d, 0",
			prog.retryCalls.Load(), prog.retries.Load(), prog.failures.Load(), len(day.Inputs), retries)
	}
}

// step answers one attempt of the scripted pull.
type step func(w http.ResponseWriter, r *http.Request)

func status(code int, header ...string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		http.Error(w, http.StatusText(code), code)
	}
}

// shortBody announces 4096 bytes and closes the connection after a few.
func shortBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "4096")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "title\r\nheader\r\n")
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

// noFooter sends a whole answer whose body stops before the footer.
func noFooter(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=GBK")
	io.WriteString(w, "title\r\nbiz_date,city,outlet_id,counter_id\r\n")
}

// hang never answers (until the client gives up).
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// reset closes the connection without an answer.
func reset(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		conn.Close()
	}
}

// scripted serves d, answering the first attempts at the order pull of its first counter
// with steps.
func scripted(t *testing.T, d *fixtures.Day, steps ...step) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	h, err := sim.New(d, sim.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	first := d.Roster()[0].Counter
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/reports/order" && r.URL.Query().Get("counter") == first {
			if i := n.Add(1) - 1; i < int64(len(steps)) {
				steps[i](w, r)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestFaults: how each fault of one pull is handled — retried after which wait, or not.
func TestFaults(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	ms := time.Millisecond
	cases := []struct {
		name    string
		steps   []step
		retries int
		tries   int             // requests of the pull
		waits   []time.Duration // between them
		missing string          // the reason when the pull fails for good
		// fresh: no kept-alive connections, so the transport never replays a request
		// itself (it does when a reused connection breaks before any answer).
		fresh bool
	}{
		{name: "503 then whole", steps: []step{status(503)}, tries: 2, waits: []time.Duration{75 * ms}},
		{name: "5xx backoff doubles and is capped", steps: []step{status(500), status(502), status(503), status(504), status(500), status(599)},
			tries: 7, waits: []time.Duration{75 * ms, 150 * ms, 300 * ms, 600 * ms, 750 * ms, 750 * ms}},
		{name: "503 with Retry-After", steps: []step{status(503, "Retry-After", "2")}, tries: 2, waits: []time.Duration{2050 * ms}},
		{name: "429 Retry-After seconds", steps: []step{status(429, "Retry-After", "7")}, tries: 2, waits: []time.Duration{7050 * ms}},
		{name: "429 Retry-After date", steps: []step{status(429, "Retry-After", now.Add(3*time.Second).UTC().Format(http.TimeFormat))},
			tries: 2, waits: []time.Duration{3050 * ms}},
		{name: "429 Retry-After capped", steps: []step{status(429, "Retry-After", "3600")}, tries: 2, waits: []time.Duration{30050 * ms}},
		{name: "429 Retry-After zero", steps: []step{status(429, "Retry-After", "0")}, tries: 2, waits: []time.Duration{50 * ms}},
		{name: "429 without Retry-After backs off", steps: []step{status(429)}, tries: 2, waits: []time.Duration{75 * ms}},
		{name: "body short of its Content-Length", steps: []step{shortBody}, tries: 2, waits: []time.Duration{75 * ms}},
		{name: "body without footer", steps: []step{noFooter}, tries: 2, waits: []time.Duration{75 * ms}},
		{name: "timeout", steps: []step{hang}, tries: 2, waits: []time.Duration{75 * ms}},
		{name: "connection reset", steps: []step{reset}, tries: 2, waits: []time.Duration{75 * ms}, fresh: true},
		{name: "401 not retried", steps: []step{status(401)}, tries: 1,
			missing: "GET reports/order?counter=TY0001-01&date=2026-11-21: 401 Unauthorized (is SETTLE_BOSS_TOKEN right?) (1 try)"},
		{name: "403 not retried", steps: []step{status(403)}, tries: 1,
			missing: "GET reports/order?counter=TY0001-01&date=2026-11-21: 403 Forbidden (1 try)"},
		{name: "404 not retried", steps: []step{status(404)}, tries: 1,
			missing: "GET reports/order?counter=TY0001-01&date=2026-11-21: 404 Not Found (1 try)"},
		{name: "400 not retried", steps: []step{status(400)}, tries: 1,
			missing: "GET reports/order?counter=TY0001-01&date=2026-11-21: 400 Bad Request (1 try)"},
		{name: "503 until the retries run out", steps: []step{status(503), status(503), status(503)}, retries: 2, tries: 3,
			waits:   []time.Duration{75 * ms, 150 * ms},
			missing: "GET reports/order?counter=TY0001-01&date=2026-11-21: 503 Service Unavailable (3 tries)"},
		{name: "cut short until the retries run out", steps: []step{noFooter, shortBody}, retries: 1, tries: 2,
			waits:   []time.Duration{75 * ms},
			missing: "GET reports/order?counter=TY0001-01&date=2026-11-21: body cut short: the connection closed before its Content-Length (2 tries)"},
	}
	d := genDay(t, 1, 2)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := scripted(t, d, tc.steps...)
			s, rec := testSource(t, srv.URL, func(c *Config) {
				if tc.name == "timeout" {
					c.PullTimeout = 500 * time.Millisecond
				}
				if tc.retries > 0 {
					c.Retries = tc.retries
				}
			})
			s.now = func() time.Time { return now }
			s.tr.DisableKeepAlives = tc.fresh
			day, err := s.Fetch(context.Background(), day1, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Load(); got != int64(tc.tries) {
				t.Errorf("%d requests of the pull, want %d", got, tc.tries)
			}
			if got := rec.got(); fmt.Sprint(got) != fmt.Sprint(tc.waits) {
				t.Errorf("waits %v, want %v", got, tc.waits)
			}
			st := day.Stats[feed.Order]
			if st.Pulls != 2 || st.Retries != tc.tries-1 {
				t.Errorf("order stats %+v, want 2 pulls, %d retries", st, tc.tries-1)
			}
			if tc.missing == "" {
				if len(day.Missing) != 0 || len(day.Inputs) != 2*int(feed.Count) {
					t.Errorf("missing %v, %d inputs", day.Missing, len(day.Inputs))
				}
				return
			}
			want := []connectors.Missing{{Feed: feed.Order, Counter: "TY0001-01", City: "TY", Outlet: "TY0001", Reason: tc.missing}}
			if missingText(day.Missing) != missingText(want) {
				t.Errorf("missing\n %+v\nwant\n %+v", day.Missing, want)
			}
			// The same in parts, for the engine's detail in the run's language.
			if len(day.Missing) == 1 {
				w := day.Missing[0].Why
				if w.Kind != connectors.WhyPullFailed || w.Request != "reports/order?counter=TY0001-01&date=2026-11-21" ||
					w.Tries != tc.tries || w.Err == nil || !strings.Contains(tc.missing, ": "+w.Err.Error()+" (") {
					t.Errorf("why = %+v, want the parts of %q", w, tc.missing)
				}
			}
			if st.Failures != 1 || len(day.Inputs) != 2*int(feed.Count)-1 {
				t.Errorf("order stats %+v, %d inputs", st, len(day.Inputs))
			}
		})
	}
}

// TestCharsets: the Content-Type's charset decides the decoding; bodies stream through
// the decoder in chunks, so characters cut at a chunk's edge must survive.
func TestCharsets(t *testing.T) {
	line := strings.Repeat("太原分公司 本地缴费日报,", 3000) // longer than a chunk, mostly 2-byte characters
	body := "title\n" + line + "\n合计,0\n"
	enc, err := simplifiedchinese.GB18030.NewEncoder().String(body)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		contentType, sent, want string
	}{
		{"text/csv; charset=GBK", enc, body},
		{"text/csv; charset=gb18030", enc, body},
		{"text/csv; charset=UTF-8", body, body},
		{"text/csv", enc, enc}, // unknown: left to the dialect's sniffing
	}
	for _, tc := range cases {
		t.Run(tc.contentType, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				io.WriteString(w, tc.sent)
			}))
			defer srv.Close()
			s, _ := testSource(t, srv.URL, nil)
			w := newWorker()
			res := s.get(context.Background(), srv.URL, w, true)
			if res.err != nil {
				t.Fatal(res.err)
			}
			if string(w.out) != tc.want || res.raw != int64(len(tc.sent)) {
				t.Errorf("got %d bytes (%d raw), want %d (%d raw)", len(w.out), res.raw, len(tc.want), len(tc.sent))
			}
		})
	}
}

func TestHasFooter(t *testing.T) {
	cases := []struct {
		body string
		want bool
	}{
		{"h\r\n合计,3,,12.00\r\n", true},
		// Only what package dialect reads as a footer: a body ending in anything else,
		// even a word like these, was cut short (its last line would be a bad row).
		{"h\n合計,3\n", false},
		{"h\ntotal,3,,1.00\n", false},
		{"h\nTotal,3,,1.00\n", false},
		{"h\nTOTAL,3,,1.00", true},
		{"h\n\"合计\",3\n\n , ,\n", true},
		{"h\n 合计 ,3\n", true},
		{"合计,0", true},
		{"h\nrow,1\n", false},
		{"h\n\xba\xcf\xbc\xc6,1\n", true}, // 合计 in GBK
		{"h\n合计 row,1\n", false},
		{"h\nrow,合计\n", false},
		{"", false},
		{"\n\n", false},
	}
	for _, tc := range cases {
		if got := hasFooter([]byte(tc.body)); got != tc.want {
			t.Errorf("hasFooter(%q) = %v, want %v", tc.body, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{1, 0, 50 * ms}, {1, 0.999999, 100 * ms}, {2, 0, 100 * ms}, {3, 0.5, 300 * ms},
		{4, 0, 400 * ms}, {5, 0, 500 * ms}, {40, 0, 500 * ms}, {40, 0.999999, time.Second},
	}
	for _, tc := range cases {
		if got := backoff(100*ms, time.Second, tc.n, tc.jitter).Round(ms); got != tc.want {
			t.Errorf("backoff(n=%d, jitter=%v) = %v, want %v", tc.n, tc.jitter, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true}, {"1", time.Second, true}, {" 120 ", 2 * time.Minute, true},
		{"Sat, 21 Nov 2026 08:00:30 GMT", 30 * time.Second, true},
		{"Sat, 21 Nov 2026 07:00:00 GMT", 0, true}, // in the past: now
		{"", 0, false}, {"-1", 0, false}, {"1.5", 0, false}, {"soon", 0, false},
	}
	for _, tc := range cases {
		got, ok := retryAfter(tc.v, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Base = "" }, "base: the report API's URL is required"},
		{func(c *Config) { c.Base = "ftp://boss/api" }, `base "ftp://boss/api": want an http:// or https:// URL`},
		{func(c *Config) { c.Base = "http://user:secret@/api" }, `base "http:///api": no host`},
		{func(c *Config) { c.Base = "http://boss/api?x=1" }, `base "http://boss/api": must not carry a query (the connector adds date and counter)`},
		{func(c *Config) { c.Base = "http://boss/api#x" }, `base "http://boss/api": must not carry a fragment`},
		{func(c *Config) { c.Base = "http://boss:pw\x7f@x" }, `base: not a URL: net/url: invalid control character in URL`},
		{func(c *Config) { c.Concurrency = 0 }, "concurrency: must be between 1 and 4096, got 0"},
		{func(c *Config) { c.PullTimeout = 0 }, "pull_timeout: must be above 0, got 0s"},
		{func(c *Config) { c.Deadline = -1 }, "deadline: must not be negative (0: none), got -1ns"},
		{func(c *Config) { c.Retries = -1 }, "retries: must be between 0 and 100, got -1"},
		{func(c *Config) { c.BackoffBase = 0 }, "backoff_base: must be above 0, got 0s"},
		{func(c *Config) { c.BackoffMax = time.Millisecond }, "backoff_max: must be at least backoff_base (250ms), got 1ms"},
		{func(c *Config) { c.MaxRetryAfter = -time.Second }, "max_retry_after: must not be negative, got -1s"},
		{func(c *Config) { c.MaxPullBytes = 0 }, "max_pull_bytes: must be between 1 and 1073741824, got 0"},
		{func(c *Config) { c.MaxPullBytes = 1<<30 + 1 }, "max_pull_bytes: must be between 1 and 1073741824, got 1073741825"},
		{func(c *Config) { c.MaxPullBytes, c.MaxInFlightBytes = 2<<20, 1<<20 }, "max_in_flight_bytes: must be at least max_pull_bytes (2097152), got 1048576"},
		{func(c *Config) { c.Token = "s3cret\r\nX: y" }, "token: may hold only visible ASCII characters (its value is not shown)"},
	}
	for _, tc := range cases {
		cfg := NewConfig()
		cfg.Base = "http://127.0.0.1:1/api"
		tc.edit(&cfg)
		err := cfg.Validate()
		if err == nil || err.Error() != tc.want {
			t.Errorf("Validate() = %v, want %q", err, tc.want)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("New accepted what Validate refused: %q", tc.want)
		}
	}
	cfg := NewConfig()
	cfg.Base = "https://user:pw@boss.example/api/"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Describe(); got != "https://boss.example/api/" {
		t.Errorf("Describe() = %q", got)
	}
	cfg.CAFile = filepath.Join(t.TempDir(), "none.pem")
	if _, err := New(cfg); err == nil || !strings.HasPrefix(err.Error(), "ca_file: open ") {
		t.Errorf("New with a missing CA file: %v", err)
	}
	os.WriteFile(cfg.CAFile, []byte("not a certificate"), 0o600)
	if _, err := New(cfg); err == nil || err.Error() != fmt.Sprintf("ca_file %q: no PEM certificate in it", cfg.CAFile) {
		t.Errorf("New with a bad CA file: %v", err)
	}
}

// TestToken: the token goes in the Authorization header and nowhere else — not in errors,
// the missing pulls' reasons, the log or Describe.
func TestToken(t *testing.T) {
	d := genDay(t, 1, 2)
	srv, _ := serveSim(t, d, func(c *sim.Config) { c.Token = "right-token" })
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))

	s, _ := testSource(t, srv.URL, func(c *Config) { c.Token, c.Logger = "right-token", logger })
	day, err := s.Fetch(context.Background(), day1, nil)
	if err != nil || len(day.Missing) != 0 {
		t.Fatalf("with the token: %v, missing %v", err, day.Missing)
	}

	s, _ = testSource(t, srv.URL, func(c *Config) { c.Token, c.Logger = "wrong-token", logger })
	_, err = s.Fetch(context.Background(), day1, nil)
	want := "roster of 2026-11-21: GET counters?date=2026-11-21: 401 Unauthorized (is SETTLE_BOSS_TOKEN right?) (1 try)"
	if err == nil || err.Error() != want {
		t.Errorf("with a wrong token: %v, want %q", err, want)
	}
	if strings.Contains(log.String(), "token") && strings.Contains(log.String(), "-token") {
		t.Errorf("the log shows a token:\n%s", log.String())
	}
	if strings.Contains(s.Describe(), "token") {
		t.Errorf("Describe() = %q", s.Describe())
	}
}

// TestRoster: the roster's failures are errors; its transient ones are retried.
func TestRoster(t *testing.T) {
	d := genDay(t, 1, 2)
	roster := func(body string, codes ...int) *httptest.Server {
		var n atomic.Int64
		h, _ := sim.New(d, sim.NewConfig())
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/counters" {
				h.ServeHTTP(w, r)
				return
			}
			if i := n.Add(1) - 1; i < int64(len(codes)) {
				http.Error(w, "no", codes[i])
				return
			}
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	good := "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\nTY,TY0001,TY0001-02\n合计,2\n"
	both := "[{TY TY0001 TY0001-01} {TY TY0001 TY0001-02}]"
	const get = "roster of 2026-11-21: GET counters?date=2026-11-21: "
	gbkRoster, _ := simplifiedchinese.GB18030.NewEncoder().String("地市,营业厅编码,工号\r\nTY,TY0001,TY0001-01\r\n合计,1\r\n")
	cases := []struct {
		name, body string
		codes      []int
		want       string // error, or the roster
	}{
		{"whole", good, nil, both},
		{"503 twice", good, []int{503, 503}, both},
		{"chinese header, other order, blank line, repeat",
			"\ufeff工号,地市,营业厅编码,备注\r\nTY0001-02,TY,TY0001,x\r\n\r\nTY0001-01,TY,TY0001\r\nTY0001-02,TY,TY0001\r\n,,\r\n合计,3,\r\n\r\n",
			nil, "[{TY TY0001 TY0001-02} {TY TY0001 TY0001-01}]"},
		{"TOTAL footer", "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\nTOTAL,1\n", nil, "[{TY TY0001 TY0001-01}]"},
		{"GBK without a charset", gbkRoster, nil, "[{TY TY0001 TY0001-01}]"},
		{"404", good, []int{404}, get + "404 Not Found (1 try)"},
		{"503 for good", good, []int{503, 503, 503, 503}, get + "503 Service Unavailable (4 tries)"},
		// A roster cut at a line boundary is whole CSV: only the footer tells.
		{"cut at a line boundary", "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\n", nil,
			get + "roster: no 合计 footer after its 1 row (cut short?) (4 tries)"},
		{"footer disagrees", "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\n合计,2\n", nil,
			get + "roster line 3: the 合计 footer counts 2 rows, the roster has 1 (4 tries)"},
		{"footer count not a number", "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\n合计,一\n", nil,
			get + `roster line 3: the 合计 footer's count "一" is not a whole number (4 tries)`},
		{"footer without a count", "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\n合计\n", nil,
			get + `roster line 3: the 合计 footer's count "" is not a whole number (4 tries)`},
		{"negative footer", "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\n合计,-1\n", nil,
			get + `roster line 3: the 合计 footer's count "-1" is not a whole number (4 tries)`},
		{"footer mid-body", "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\n合计,1\nTY,TY0001,TY0001-02\n合计,2\n", nil,
			get + "roster line 4: a row after the 合计 footer of line 3 (4 tries)"},
		{"repeated row counted by the footer", "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\nTY,TY0001,TY0001-01\n合计,2\n", nil,
			"[{TY TY0001 TY0001-01}]"},
		{"repeated row not counted", "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\nTY,TY0001,TY0001-01\n合计,1\n", nil,
			get + "roster line 4: the 合计 footer counts 1 rows, the roster has 2 (4 tries)"},
		{"one counter, two outlets", "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\nTY,TY0002,TY0001-01\n合计,2\n", nil,
			get + `roster line 3: counter "TY0001-01" listed under city "TY", outlet "TY0002", but line 2 lists it under city "TY", outlet "TY0001" (4 tries)`},
		{"no counter_id", "city,outlet_id,counter_id\nTY,TY0001,\n合计,1\n", nil,
			get + "roster line 2: no counter_id (4 tries)"},
		{"no header", "TY,TY0001,TY0001-01\n合计,1\n", nil,
			get + `roster line 1: want a header naming city, outlet_id and counter_id, got "TY,TY0001,TY0001-01" (4 tries)`},
		{"empty", "", nil, get + "roster: empty (4 tries)"},
		{"zero counters", "city,outlet_id,counter_id\n合计,0\n", nil, get + "roster lists no counter (4 tries)"},
		{"no counter, no footer", "city,outlet_id,counter_id\n", nil, get + "roster: no 合计 footer after its 0 rows (cut short?) (4 tries)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := roster(tc.body, tc.codes...)
			s, _ := testSource(t, srv.URL, func(c *Config) { c.Retries = 3 })
			day, err := s.Fetch(context.Background(), day1, nil)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = fmt.Sprint(day.Roster)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestTLS: https with a CA file beside the system roots; without it the certificate is
// refused at once, not retried.
func TestTLS(t *testing.T) {
	d := genDay(t, 1, 1)
	h, _ := sim.New(d, sim.NewConfig())
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := testSource(t, srv.URL, func(c *Config) { c.CAFile = ca })
	day, err := s.Fetch(context.Background(), day1, nil)
	if err != nil || len(day.Inputs) != int(feed.Count) {
		t.Fatalf("with the CA file: %v", err)
	}
	s, rec := testSource(t, srv.URL, nil)
	_, err = s.Fetch(context.Background(), day1, nil)
	if err == nil || !strings.Contains(err.Error(), "certificate") || !strings.HasSuffix(err.Error(), "(1 try)") {
		t.Errorf("without the CA file: %v", err)
	}
	if len(rec.got()) != 0 {
		t.Errorf("a certificate error was retried: %v", rec.got())
	}
}

// TestConcurrency: never more requests in flight than Concurrency, over kept-alive
// connections.
func TestConcurrency(t *testing.T) {
	d := genDay(t, 3, 3)
	h, _ := sim.New(d, sim.NewConfig())
	var inFlight, peak, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		h.ServeHTTP(w, r)
		inFlight.Add(-1)
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	s, _ := testSource(t, srv.URL, func(c *Config) { c.Concurrency = 3 })
	if _, err := s.Fetch(context.Background(), day1, nil); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak of %d requests in flight, want at most 3 (and some parallelism)", p)
	}
	if c := conns.Load(); c > 3 {
		t.Errorf("%d connections for %d requests: not kept alive", c, 9*int(feed.Count)+1)
	}
}

// TestDeadline: pulls not done by the deadline are missing; the run goes on with the rest.
func TestDeadline(t *testing.T) {
	d := genDay(t, 2, 2)
	srv, _ := serveSim(t, d, func(c *sim.Config) { c.Latency = 20 * time.Millisecond })
	s, _ := testSource(t, srv.URL, func(c *Config) { c.Concurrency, c.Deadline = 1, 150*time.Millisecond })
	day, err := s.Fetch(context.Background(), day1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(day.Inputs) == 0 || len(day.Missing) == 0 || len(day.Inputs)+len(day.Missing) != 4*int(feed.Count) {
		t.Fatalf("%d inputs, %d missing", len(day.Inputs), len(day.Missing))
	}
	last := day.Missing[len(day.Missing)-1]
	if !strings.Contains(last.Reason, "deadline of 150ms") || last.City != "TY" || last.Outlet == "" {
		t.Errorf("missing %+v", last)
	}
	failures := 0
	for _, st := range day.Stats {
		failures += st.Failures
	}
	if failures != len(day.Missing) {
		t.Errorf("%d failures counted, %d missing", failures, len(day.Missing))
	}
}

// TestCancel: a cancelled context is an error, not a day.
func TestCancel(t *testing.T) {
	d := genDay(t, 2, 2)
	srv, _ := serveSim(t, d, func(c *sim.Config) { c.Latency = 10 * time.Millisecond })
	s, _ := testSource(t, srv.URL, func(c *Config) { c.Concurrency = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	if _, err := s.Fetch(ctx, day1, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Fetch = %v, want the context's error", err)
	}
}

// TestNothingPulled: when no pull succeeds there is nothing to publish, and the connector
// stops early rather than retrying every pull of the day.
func TestNothingPulled(t *testing.T) {
	d := genDay(t, 10, 10)
	h, _ := sim.New(d, sim.NewConfig())
	var reports atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/reports/") {
			reports.Add(1)
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	s, _ := testSource(t, srv.URL, func(c *Config) { c.Retries = 1 })
	_, err := s.Fetch(context.Background(), day1, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "gave up after the first 64 pulls of 2026-11-21 all failed; GET reports/") ||
		!strings.HasSuffix(err.Error(), ": 502 Bad Gateway (2 tries)") {
		t.Errorf("Fetch = %v", err)
	}
	if n := reports.Load(); n >= 2*900 {
		t.Errorf("%d requests: did not stop early", n)
	}

	// A day whose every pull is refused is an error too, even when small.
	d = genDay(t, 1, 1)
	h, _ = sim.New(d, sim.NewConfig())
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/reports/") {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv2.Close()
	s, _ = testSource(t, srv2.URL, nil)
	want := "no pull of 2026-11-21 succeeded; GET reports/deposit?counter=TY0001-01&date=2026-11-21: 403 Forbidden (1 try)"
	if _, err := s.Fetch(context.Background(), day1, nil); err == nil || err.Error() != want {
		t.Errorf("Fetch = %v, want %q", err, want)
	}
}

// TestDecodeChunks: decoding as the body streams in, in chunks of any size, gives what
// decoding the whole body gives — 2- and 4-byte GB18030 characters cut at a chunk's edge,
// invalid bytes and all.
func TestDecodeChunks(t *testing.T) {
	text := "太原分公司 本地缴费日报 2026-11-21\r\n账务日期,金额\r\n20261121,\"1,234.50\"\r\n€ ≠ 𠀀 ∑,合计\r\n"
	enc, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	enc = append(enc, "\x81 x\xff\xfe\x81\x30,end\x81"...) // a cut 4-byte sequence, invalid bytes, a lead byte at the end
	want, err := simplifiedchinese.GB18030.NewDecoder().Bytes(enc)
	if err != nil {
		t.Fatal(err)
	}
	for size := 4; size <= 48; size++ {
		w := newWorker()
		w.in = make([]byte, size)
		w.begin()
		resp := &http.Response{Header: http.Header{"Content-Type": {"text/csv; charset=GBK"}}, Body: io.NopCloser(bytes.NewReader(enc))}
		raw, err := w.read(context.Background(), resp, 1<<20, newBudget(1<<20, 1<<20))
		if err != nil || raw != int64(len(enc)) {
			t.Fatalf("chunks of %d: %v, %d bytes", size, err, raw)
		}
		if !bytes.Equal(w.out, want) {
			t.Errorf("chunks of %d:\n got %q\nwant %q", size, w.out, want)
		}
	}
}

// tlsServer is httptest.NewTLSServer without the log of handshakes cut by the test's end.
func tlsServer(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	srv.StartTLS()
	return srv
}

// recordingServer is a plain http server that records every Authorization it is sent.
func recordingServer(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" Authorization="+r.Header.Get("Authorization"))
		mu.Unlock()
		io.WriteString(w, "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\n合计,1\n")
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// TestRedirects: a redirect is followed only to the same scheme, host and port; the token
// goes nowhere else, and an https base is never followed to http.
func TestRedirects(t *testing.T) {
	d := genDay(t, 1, 1)
	const token = "s3cret-token"
	h, err := sim.New(d, func() sim.Config { c := sim.NewConfig(); c.Token = token; return c }())
	if err != nil {
		t.Fatal(err)
	}
	first := d.Roster()[0].Counter
	// redirector serves the simulator, but sends the roster or the first order pull to
	// where(r) when it returns a URL.
	redirector := func(where func(r *http.Request) string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if to := where(r); to != "" {
				http.Redirect(w, r, to, http.StatusFound)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	// downgrade is an https server of the simulator that redirects requests for path, with
	// code, to the same path and query at plain (an http server on another port).
	downgrade := func(path, plain string, code int) *httptest.Server {
		return tlsServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == path {
				http.Redirect(w, r, plain+path+"?"+r.URL.RawQuery, code)
				return
			}
			h.ServeHTTP(w, r)
		}))
	}
	caFile := func(t *testing.T, srv *httptest.Server) string {
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		return ca
	}

	t.Run("https roster to http on another port, 307", func(t *testing.T) {
		plain, got := recordingServer(t)
		srv := downgrade("/counters", plain.URL, http.StatusTemporaryRedirect)
		defer srv.Close()
		s, rec := testSource(t, srv.URL, func(c *Config) { c.CAFile, c.Token = caFile(t, srv), token })
		_, err := s.Fetch(context.Background(), day1, nil)
		want := "roster of 2026-11-21: GET counters?date=2026-11-21: redirect to " + plain.URL +
			"/counters refused: only the base's scheme, host and port are followed (1 try)"
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
		if g := got(); len(g) != 0 {
			t.Errorf("the http server was sent %q", g)
		}
		if len(rec.got()) != 0 {
			t.Errorf("a refused redirect was retried: %v", rec.got())
		}
	})

	t.Run("https pull to http on another port, 308", func(t *testing.T) {
		plain, got := recordingServer(t)
		srv := downgrade("/reports/order", plain.URL, http.StatusPermanentRedirect)
		defer srv.Close()
		s, _ := testSource(t, srv.URL, func(c *Config) { c.CAFile, c.Token = caFile(t, srv), token })
		day, err := s.Fetch(context.Background(), day1, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("[{order %s TY TY0001 GET reports/order?counter=%s&date=2026-11-21: redirect to %s/reports/order refused: only the base's scheme, host and port are followed (1 try)}]",
			first, first, plain.URL)
		if g := missingText(day.Missing); g != want {
			t.Errorf("missing\ngot  %s\nwant %s", g, want)
		}
		if len(day.Inputs) != int(feed.Count)-1 {
			t.Errorf("%d inputs", len(day.Inputs))
		}
		if g := got(); len(g) != 0 {
			t.Errorf("the http server was sent %q", g)
		}
	})

	for _, tc := range []struct {
		name string
		to   func(other *url.URL, r *http.Request) string
	}{
		// localhost is 127.0.0.1, but not the base's host: refused all the same.
		{"another host", func(other *url.URL, r *http.Request) string {
			return "http://localhost:" + other.Port() + r.URL.RequestURI()
		}},
		{"another port", func(other *url.URL, r *http.Request) string {
			return "http://127.0.0.1:" + other.Port() + r.URL.RequestURI()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other, got := recordingServer(t)
			ou, _ := url.Parse(other.URL)
			srv := httptest.NewServer(redirector(func(r *http.Request) string {
				if r.URL.Path != "/reports/order" || r.URL.Query().Get("counter") != first {
					return ""
				}
				return tc.to(ou, r)
			}))
			defer srv.Close()
			s, _ := testSource(t, srv.URL, func(c *Config) { c.Token = token })
			day, err := s.Fetch(context.Background(), day1, nil)
			if err != nil {
				t.Fatal(err)
			}
			to := tc.to(ou, &http.Request{URL: &url.URL{Path: "/reports/order"}})
			want := fmt.Sprintf("[{order %s TY TY0001 GET reports/order?counter=%s&date=2026-11-21: redirect to %s refused: only the base's scheme, host and port are followed (1 try)}]",
				first, first, to)
			if g := missingText(day.Missing); g != want {
				t.Errorf("missing\ngot  %s\nwant %s", g, want)
			}
			if g := got(); len(g) != 0 {
				t.Errorf("the other server was sent %q", g)
			}
		})
	}

	t.Run("same origin", func(t *testing.T) {
		var redirected atomic.Int64
		srv := tlsServer(redirector(func(r *http.Request) string {
			if strings.HasPrefix(r.URL.Path, "/old/") {
				redirected.Add(1)
				return strings.TrimPrefix(r.URL.RequestURI(), "/old")
			}
			return ""
		}))
		defer srv.Close()
		s, _ := testSource(t, srv.URL+"/old", func(c *Config) { c.CAFile, c.Token = caFile(t, srv), token })
		day, err := s.Fetch(context.Background(), day1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(day.Missing) != 0 || len(day.Inputs) != int(feed.Count) || redirected.Load() != 1+int64(feed.Count) {
			t.Errorf("missing %v, %d inputs, %d redirected", day.Missing, len(day.Inputs), redirected.Load())
		}
	})
}

// missingText renders what the reasons say, as fmt.Sprint did before Missing had a Why.
func missingText(ms []connectors.Missing) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("{%v %s %s %s %s}", m.Feed, m.Counter, m.City, m.Outlet, m.Reason)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// memKeeper is a connectors.Keeper that copies what it is given, or fails.
type memKeeper struct {
	mu     sync.Mutex
	bodies map[string][]byte
	fail   bool
}

func (k *memKeeper) Keep(name string, b []byte) (string, func() (io.ReadCloser, error), error) {
	if k.fail {
		return "", nil, errors.New("disk full")
	}
	c := bytes.Clone(b)
	k.mu.Lock()
	k.bodies[name] = c
	k.mu.Unlock()
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), connectors.Bytes(c), nil
}

// TestFetchKeepsBodiesAsTheyArrive: given a Keeper (connectors.WithKeeper), Fetch hands it
// every body as it arrives, decoded, and each input is the kept body (Kept its sha256, Size
// its length, Open the keeper's); the workers' buffers are reused, so no body is changed by
// the ones after it. A Keeper that fails leaves the bodies held as without one.
func TestFetchKeepsBodiesAsTheyArrive(t *testing.T) {
	d := genDay(t, 3, 2)
	srv, _ := serveSim(t, d, nil)
	for _, fail := range []bool{false, true} {
		s, _ := testSource(t, srv.URL+"/", func(c *Config) { c.Concurrency = 2 })
		k := &memKeeper{bodies: map[string][]byte{}, fail: fail}
		day, err := s.Fetch(connectors.WithKeeper(context.Background(), k), day1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(day.Inputs), 6*int(feed.Count); got != want {
			t.Fatalf("%d inputs, want %d", got, want)
		}
		for _, in := range day.Inputs {
			var raw bytes.Buffer
			if err := fixtures.RenderCSV(&raw, d, in.Feed, in.Counter, fixtures.DialectBOSS); err != nil {
				t.Fatal(err)
			}
			want := gbk(t, raw.Bytes())
			if got := readAll(t, in); !bytes.Equal(got, want) {
				t.Errorf("fail=%v %s: body differs from the rendered report", fail, in.Name)
			}
			if fail {
				if in.Kept != "" || len(k.bodies) != 0 {
					t.Errorf("%s: kept %q by a failing keeper", in.Name, in.Kept)
				}
				continue
			}
			sum := sha256.Sum256(want)
			if in.Kept != hex.EncodeToString(sum[:]) || in.Size != int64(len(want)) || !bytes.Equal(k.bodies[in.Name], want) {
				t.Errorf("%s: kept %q (%d bytes); the keeper has %d bytes", in.Name, in.Kept, in.Size, len(k.bodies[in.Name]))
			}
		}
	}
}
