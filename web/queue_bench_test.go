package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"settle/engine"
	"settle/job"
	"settle/store"
	"settle/web/users"
	"settle/workflow"
)

// The province of the benchmarks: 25,000 counters (10 per outlet) × 90 days, 2% of the
// counter-days with items (two ERRORs and a WARNING each, in every state).
const (
	benchCounters = 25000
	benchDays     = 90
	benchPerOut   = 10
)

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// benchStore fills a store's workflow database once per process (SETTLE_BENCH_STORE keeps
// it between runs).
func benchStore(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir = os.Getenv("SETTLE_BENCH_STORE")
		if benchDir == "" {
			benchDir, benchErr = os.MkdirTemp("", "settle-wf-bench-")
			if benchErr != nil {
				return
			}
		}
		if _, err := os.Stat(filepath.Join(benchDir, workflow.FileName)); err == nil {
			return
		}
		start := time.Now()
		benchErr = fillBench(benchDir)
		b.Logf("filled %s in %s", benchDir, time.Since(start))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir
}

func fillBench(dir string) error {
	if _, err := store.Open(dir); err != nil {
		return err
	}
	wf, err := workflow.Open(dir, workflow.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		return err
	}
	wf.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, workflow.FileName)+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	day, _ := tx.Prepare(`INSERT INTO days(date, outlet, counter, status) VALUES (?,?,?,?)`)
	item, _ := tx.Prepare(`INSERT INTO items(date, outlet, counter, code, feed, txn_id, key, n, city, severity, amount, has_amount,
		detail, source, state, present, run_id) VALUES (?,?,?,?,?,?,?,0,'TY',?,?,1,'detail','src',?,1,'run')`)
	states := []string{"open", "explained", "rejected", "accepted"}
	today := testNow.In(engine.Shanghai)
	for d := 1; d <= benchDays; d++ {
		date := today.AddDate(0, 0, -d).Format(time.DateOnly)
		for c := 0; c < benchCounters; c++ {
			outlet := fmt.Sprintf("O%04d", c/benchPerOut)
			counter := fmt.Sprintf("%s-%02d", outlet, c%benchPerOut)
			status := "approved"
			if d < 3 {
				status = "open"
			}
			hasItems := (c*31+d*17)%50 == 0 // 2%
			if hasItems {
				status = []string{"open", "certified", "open"}[(c+d)%3]
			}
			if _, err := day.Exec(date, outlet, counter, status); err != nil {
				return err
			}
			if !hasItems {
				continue
			}
			for k, code := range []string{"DEPOSIT_SHORT", "IMEI_DUPLICATE", "REMOTE_PENDING"} {
				sev := "ERROR"
				if k == 2 {
					sev = "WARNING"
				}
				st := states[(c+d+k)%len(states)]
				if _, err := item.Exec(date, outlet, counter, code, "deposit", fmt.Sprintf("T%d", k), "", sev, int64(-100*(k+1)), st); err != nil {
					return err
				}
			}
		}
	}
	return tx.Commit()
}

// benchServer is a server over the bench store with a clerk of one counter, a reviewer
// of one outlet and an auditor (passwords at bcrypt's default cost).
func benchServer(b *testing.B, dir string, extra int) (*Server, string) {
	usersFile := filepath.Join(dir, fmt.Sprintf("users-%d.json", extra))
	if _, err := os.Stat(usersFile); err != nil {
		var f users.File
		add := func(u users.User) {
			if err := f.Add(u, []byte(u.Name+"-password"), bcrypt.DefaultCost, false); err != nil {
				b.Fatal(err)
			}
		}
		add(users.User{Name: "clerk", Role: users.Clerk, Counters: []string{"O0000-00"}})
		add(users.User{Name: "rev", Role: users.Reviewer, Outlets: []string{"O0001"}})
		add(users.User{Name: "aud", Role: users.Auditor})
		for i := 0; i < extra; i++ {
			add(users.User{Name: fmt.Sprintf("c%03d", i), Role: users.Clerk, Counters: []string{fmt.Sprintf("O%04d-%02d", i/benchPerOut, i%benchPerOut)}})
		}
		if err := f.Save(usersFile); err != nil {
			b.Fatal(err)
		}
	}
	st, err := store.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	cfg := NewConfig()
	cfg.Store, cfg.UsersFile = st, usersFile
	cfg.Job = job.Config{Source: demoSource(0.5), Engine: engine.NewConfig(), Render: testRenderer}
	cfg.Now = func() time.Time { return testNow }
	cfg.LoginFailures = 1000
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return s, usersFile
}

func benchLogin(b *testing.B, ts *testServer, name string) *client {
	c := ts.client(&testing.T{})
	tok := csrfRe.FindStringSubmatch(c.get("/login").body)[1]
	if r := c.post("/login", url.Values{"csrf": {tok}, "username": {name}, "password": {name + "-password"}}); r.status != http.StatusSeeOther {
		b.Fatalf("login %s: %d", name, r.status)
	}
	return c
}

func benchPage(b *testing.B, user, path, want string) {
	dir := benchStore(b)
	s, _ := benchServer(b, dir, 0)
	defer s.Close()
	ts := &testServer{Server: s, dir: dir, ts: newHTTPTest(s)}
	defer ts.ts.Close()
	c := benchLogin(b, ts, user)
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		r := c.get(path)
		times = append(times, time.Since(t0))
		if r.status != 200 || !strings.Contains(r.body, want) {
			b.Fatalf("GET %s: %d", path, r.status)
		}
	}
	reportMedian(b, times)
}

func reportMedian(b *testing.B, times []time.Duration) {
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkQueueClerk(b *testing.B)    { benchPage(b, "clerk", "/queue", "queue-days") }
func BenchmarkQueueReviewer(b *testing.B) { benchPage(b, "rev", "/queue", "queue-days") }
func BenchmarkAuditorView(b *testing.B)   { benchPage(b, "aud", "/audit/items", "buckets") }

// BenchmarkServeStart is web.New over the province's workflow database (what `settle serve`
// does before it listens).
func BenchmarkServeStart(b *testing.B) {
	dir := benchStore(b)
	s, _ := benchServer(b, dir, 0)
	s.Close()
	var times []time.Duration
	for b.Loop() {
		t0 := time.Now()
		s, _ := benchServer(b, dir, 0)
		times = append(times, time.Since(t0))
		s.Close()
	}
	reportMedian(b, times)
}

// BenchmarkLoginRate: clerks log in at the rate (2,285 over ten minutes, one every
// 263 ms) and open their queue; bounded: 100 clerks (26 s) per iteration.
func BenchmarkLoginRate(b *testing.B) { loginLoad(b, 600*time.Second/2285) }

// BenchmarkLoginBurst: 100 clerks log in at once (the worst case: bcrypt bounds it by the
// cores).
func BenchmarkLoginBurst(b *testing.B) { loginLoad(b, 0) }

// loginLoad: 100 clerks log in, every gap (bcrypt at its default cost) and open
// their queue; bounded: one burst per iteration.
func loginLoad(b *testing.B, gap time.Duration) {
	const n = 100
	dir := benchStore(b)
	s, _ := benchServer(b, dir, n)
	defer s.Close()
	ts := &testServer{Server: s, dir: dir, ts: newHTTPTest(s)}
	defer ts.ts.Close()
	var logins, queues []time.Duration
	var mu sync.Mutex
	for b.Loop() {
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			time.Sleep(gap)
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("c%03d", i)
				c := ts.client(&testing.T{})
				tok := csrfRe.FindStringSubmatch(c.get("/login").body)[1]
				t0 := time.Now()
				r := c.post("/login", url.Values{"csrf": {tok}, "username": {name}, "password": {name + "-password"}})
				t1 := time.Now()
				q := c.get("/queue")
				t2 := time.Now()
				if r.status != http.StatusSeeOther || q.status != 200 {
					b.Errorf("%s: login %d queue %d", name, r.status, q.status)
				}
				mu.Lock()
				logins, queues = append(logins, t1.Sub(t0)), append(queues, t2.Sub(t1))
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	slices.Sort(logins)
	slices.Sort(queues)
	b.ReportMetric(float64(logins[len(logins)*99/100].Milliseconds()), "login-p99-ms")
	b.ReportMetric(float64(queues[len(queues)/2].Milliseconds()), "queue-median-ms")
	b.ReportMetric(float64(queues[len(queues)*99/100].Milliseconds()), "queue-p99-ms")
}

var _ = context.Background

func newHTTPTest(s *Server) *httptest.Server { return httptest.NewServer(s.Handler()) }
