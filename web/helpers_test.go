package web

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"settle/connectors"
	"settle/connectors/demo"
	"settle/engine"
	"settle/fixtures"
	"settle/job"
	"settle/money"
	"settle/report"
	"settle/store"
	"settle/web/users"
)

// The known small day of the tests: `demo?outlets=2&counters=2&seed=6&anomalies=0.5`.
// Counter TY0001-02 is short 189.37 in cash that day.
const (
	testDate     = "2026-11-21"
	shortCounter = "TY0001-02"
	otherCounter = "TY0001-01"
)

// testNow is the server's clock: the morning after testDate, in Asia/Shanghai.
var testNow = time.Date(2026, 11, 22, 9, 30, 0, 0, engine.Shanghai)

// The test users and their passwords.
var testUsers = []struct {
	u        users.User
	password string
}{
	{users.User{Name: "zhang", Display: "张三", Role: users.Clerk, Counters: []string{shortCounter}}, "zhang-pass"},
	{users.User{Name: "li", Display: "李四", Role: users.Clerk, Counters: []string{otherCounter}}, "li-password"},
	{users.User{Name: "wang", Display: "王复核", Role: users.Reviewer, Outlets: []string{"TY0001"}}, "wang-pass"},
	{users.User{Name: "chen", Role: users.Reviewer, Outlets: []string{"TY0002"}}, "chen-pass"},
	{users.User{Name: "zhao", Display: "赵稽核", Role: users.Auditor}, "zhao-pass"},
}

func passwordOf(name string) string {
	for _, tu := range testUsers {
		if tu.u.Name == name {
			return tu.password
		}
	}
	return ""
}

// demoSource is the known day's source; anomalies other than 0.5 give another version of it.
func demoSource(anomalies float64) connectors.Source {
	cfg := fixtures.NewConfig()
	cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies = 2, 2, 6, anomalies
	return demo.New(cfg)
}

// seqSource fetches from its sources in turn, staying on the last: a day whose second run
// sees corrected feeds.
type seqSource struct {
	srcs []connectors.Source
	n    atomic.Int32
}

func (s *seqSource) Fetch(ctx context.Context, date time.Time, p connectors.Progress) (*connectors.Day, error) {
	i := int(s.n.Add(1)) - 1
	return s.srcs[min(i, len(s.srcs)-1)].Fetch(ctx, date, p)
}

func (s *seqSource) Describe() string {
	i := int(s.n.Load())
	return s.srcs[min(max(i-1, 0), len(s.srcs)-1)].Describe()
}

func testRenderer(ctx context.Context, res *engine.Result, run *store.Run, meta store.Meta) error {
	opts := report.NewOptions()
	opts.Workers = 2
	opts.RunID, opts.Source = meta.RunID, meta.Source
	opts.GeneratedAt = meta.StartedAt.In(engine.Shanghai)
	return report.Render(ctx, res, run, opts)
}

// testServer is a Server over a fresh store with the test users; its runs fetch src.
type testServer struct {
	*Server
	dir string
	ts  *httptest.Server
}

func newTestServer(t *testing.T, src connectors.Source) *testServer {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	var f users.File
	for _, tu := range testUsers {
		if err := f.Add(tu.u, []byte(tu.password), bcrypt.MinCost, false); err != nil {
			t.Fatal(err)
		}
	}
	usersFile := filepath.Join(dir, "users.json")
	if err := f.Save(usersFile); err != nil {
		t.Fatal(err)
	}
	cfg := NewConfig()
	cfg.Store, cfg.UsersFile = st, usersFile
	cfg.Job = job.Config{Source: src, Engine: engine.NewConfig(), Render: testRenderer, LockTimeout: time.Minute}
	cfg.Now = func() time.Time { return testNow }
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return &testServer{Server: s, dir: dir, ts: ts}
}

// runNow runs the test day and waits for it to be published.
func (ts *testServer) runNow(t *testing.T) string {
	t.Helper()
	date, _ := parseDate(testDate)
	st := ts.runs.start(date, "test")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ts.WaitRuns(ctx); err != nil {
		t.Fatal(err)
	}
	p := st.snapshot(time.Now())
	if p.Error != "" || p.RunID == "" {
		t.Fatalf("run: %+v", p)
	}
	return p.RunID
}

// client is a browser-like HTTP client: a cookie jar, no redirects followed.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func (ts *testServer) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: ts.ts.URL, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, form url.Values) response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (c *client) get(path string) response { return c.do(http.MethodGet, path, nil) }

func (c *client) post(path string, form url.Values) response {
	return c.do(http.MethodPost, path, form)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the first CSRF token of a page.
func (c *client) csrf(path string) string {
	c.t.Helper()
	r := c.get(path)
	m := csrfRe.FindStringSubmatch(r.body)
	if m == nil {
		c.t.Fatalf("GET %s: %d, no csrf token in the page", path, r.status)
	}
	return m[1]
}

// login logs the client in as name and fails the test unless it worked.
func (c *client) login(name string) {
	c.t.Helper()
	tok := c.csrf("/login")
	r := c.post("/login", url.Values{"csrf": {tok}, "username": {name}, "password": {passwordOf(name)}, "next": {"/"}})
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("login %s: %d %s", name, r.status, r.body)
	}
}

// counterNet sums a counter's net from the run's settlement.csv, formatted as the pages show
// money (thousands separators): the oracle of the figures.
func counterNet(t *testing.T, runDir, counter string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(runDir, "settlement.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, r := range rows[1:] {
		if r[3] == counter {
			n, err := money.Parse(r[9])
			if err != nil {
				t.Fatal(err)
			}
			sum += n
		}
	}
	return money.Grouped(sum)
}
