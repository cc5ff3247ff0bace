package job

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"settle/connectors"
	"settle/connectors/boss"
	"settle/engine"
	"settle/feed"
	"settle/fixtures"
	"settle/fixtures/sim"
	"settle/report"
	"settle/store"
)

// correctingSim serves a day through the simulator and, once fix is set, answers the deposit
// pull of one counter with its first deposit set to 1.00 (and the TOTAL footer to match), as
// BOSS would after a clerk's correction. It counts the requests it answers.
type correctingSim struct {
	s        *sim.Server
	counter  string
	fix      atomic.Bool
	mu       sync.Mutex
	requests []string
}

func (c *correctingSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests = append(c.requests, r.URL.RequestURI())
	c.mu.Unlock()
	r.Header.Del("Accept-Encoding")
	rec := httptest.NewRecorder()
	c.s.ServeHTTP(rec, r)
	body := rec.Body.String()
	if c.fix.Load() && strings.HasSuffix(r.URL.Path, "/reports/deposit") && r.URL.Query().Get("counter") == c.counter && rec.Code == 200 {
		body = changeDepositT(body)
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	w.Write([]byte(body))
}

// changeDepositT is changeDeposit for a server's handler (no *testing.T: a bad body is
// served as it came, and the test's figures then fail).
func changeDepositT(body string) string {
	var t testing.T
	defer func() { recover() }()
	return changeDeposit(&t, body).file
}

// TestRefreshOneCounter: on a simulator day, a counter's deposit changes at the source and a
// refresh of that counter pulls only its feeds; the new run's tables equal a full rerun's
// byte for byte, and only that counter's reports, its outlet's roll-up and the city roll-up
// were rendered in it.
func TestRefreshOneCounter(t *testing.T) {
	fcfg := fixtures.NewConfig()
	fcfg.Date = day1
	fcfg.Outlets, fcfg.Counters = 3, 2
	day, err := fixtures.Generate(fcfg)
	if err != nil {
		t.Fatal(err)
	}
	scfg := sim.NewConfig()
	scfg.Dialect = fixtures.DialectCanonical
	s, err := sim.New(day, scfg)
	if err != nil {
		t.Fatal(err)
	}
	target := day.Roster()[2]
	cs := &correctingSim{s: s, counter: target.Counter}
	srv := httptest.NewServer(cs)
	t.Cleanup(srv.Close)
	newSource := func() *boss.Source {
		bcfg := boss.NewConfig()
		bcfg.Base, bcfg.Concurrency = srv.URL, 4
		src, err := boss.New(bcfg)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	run := func(dir string, counters []string) *Outcome {
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		opts := report.NewOptions()
		opts.Workers = 2
		out, err := Run(t.Context(), Config{Date: day1, Source: newSource(), Store: st, Engine: engine.NewConfig(),
			Render: Reports(opts), LockTimeout: time.Minute, FailOn: "never", Counters: counters})
		if out == nil {
			t.Fatal(err)
		}
		return out
	}
	dir := t.TempDir()
	first := run(dir, nil)
	cs.fix.Store(true)
	cs.mu.Lock()
	cs.requests = nil
	cs.mu.Unlock()
	refreshed := run(dir, []string{target.Counter})
	cs.mu.Lock()
	asked := cs.requests
	cs.mu.Unlock()
	if len(asked) != 1+9 {
		t.Errorf("the refresh made %d requests, want the roster and 9 pulls: %v", len(asked), asked)
	}
	for _, u := range asked {
		if strings.Contains(u, "/reports/") && !strings.Contains(u, "counter="+target.Counter) {
			t.Errorf("the refresh pulled %s", u)
		}
	}
	full := run(t.TempDir(), nil)
	for _, rel := range []string{"settlement.csv", "variance.csv", "exceptions.csv", "rejects.csv", "settlement.parquet", "variance.parquet", "exceptions.parquet"} {
		a, _ := os.ReadFile(filepath.Join(refreshed.RunDir, rel))
		b, _ := os.ReadFile(filepath.Join(full.RunDir, rel))
		if len(b) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s of the refresh differs from a full rerun's", rel)
		}
	}
	v1, _ := os.ReadFile(filepath.Join(first.RunDir, "variance.csv"))
	v2, _ := os.ReadFile(filepath.Join(refreshed.RunDir, "variance.csv"))
	if bytes.Equal(v1, v2) {
		t.Fatal("the correction did not reach the refreshed run")
	}
	m := manifestOf(t, refreshed.RunDir)
	o := target.Outlet
	want := map[string]bool{"reports/" + o + "/" + target.Counter + ".xlsx": true, "reports/" + o + "/" + target.Counter + ".pdf": true,
		"reports/" + o + "/outlet.xlsx": true, "reports/" + o + "/outlet.pdf": true, "reports/city.xlsx": true, "reports/city.pdf": true}
	if len(m.Reports) != 6*2+3*2+1*2 { // each counter's XLSX and PDF, each outlet's and the city's roll-up XLSX and PDF
		t.Fatalf("%d reports recorded", len(m.Reports))
	}
	for rel, rec := range m.Reports {
		if want[rel] != (rec.RenderedIn == refreshed.RunID) || (!want[rel] && rec.RenderedIn != first.RunID) {
			t.Errorf("%s rendered in %s (refresh %s, first %s)", rel, rec.RenderedIn, refreshed.RunID, first.RunID)
		}
	}
	// Of the feeds' Parquet, only the deposits' (the corrected pull's feed) is written again;
	// the others are the first run's files, hard-linked (the refresh's CSV/Parquet equal a
	// full rerun's, above, so the feeds are right: checked here byte for byte too).
	if len(m.FeedFiles) != 9 {
		t.Fatalf("%d feed files recorded, want 9: %v", len(m.FeedFiles), m.FeedFiles)
	}
	for rel, rec := range m.FeedFiles {
		wantRun := first.RunID
		if rel == store.FeedPath(feed.Deposit) {
			wantRun = refreshed.RunID
		}
		if rec.RenderedIn != wantRun {
			t.Errorf("%s written in %s, want %s (refresh %s, first %s)", rel, rec.RenderedIn, wantRun, refreshed.RunID, first.RunID)
		}
		a, _ := os.ReadFile(filepath.Join(refreshed.RunDir, rel))
		b, _ := os.ReadFile(filepath.Join(full.RunDir, rel))
		if len(b) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s of the refresh differs from a full rerun's", rel)
		}
	}
	// The refresh's kept inputs name the corrected pull; the others are the first run's.
	m1 := manifestOf(t, first.RunDir)
	if got := m.Kept.Refreshed; len(got) != 1 || got[0] != target.Counter || m1.Kept.Refreshed != nil {
		t.Errorf("kept.refreshed: %v in the refresh (want %s alone), %v in the full run (want none)", got, target.Counter, m1.Kept.Refreshed)
	}
	sums := map[string]string{}
	for _, ki := range m1.Kept.Inputs {
		sums[ki.Name] = ki.SHA256
	}
	for _, ki := range m.Kept.Inputs {
		changed := ki.Name == "deposit/"+target.Counter
		if changed == (sums[ki.Name] == ki.SHA256) {
			t.Errorf("kept input %s: sha256 %s, first run %s", ki.Name, ki.SHA256, sums[ki.Name])
		}
	}
	// Another counter's kept input gone from the store: a refresh does not read the inputs it
	// takes (the parse cache has them), but it still finds the file missing, fails naming
	// the input and publishes nothing.
	var other store.KeptInput
	for _, ki := range m.Kept.Inputs {
		if ki.Counter != "" && ki.Counter != target.Counter {
			other = ki
			break
		}
	}
	if err := os.Remove(filepath.Join(dir, "2026-11-21", store.InputsName, other.SHA256+".zst")); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(t.Context(), Config{Date: day1, Source: newSource(), Store: st, Engine: engine.NewConfig(),
		LockTimeout: time.Minute, FailOn: "never", Counters: []string{target.Counter}})
	if out != nil || err == nil || !strings.Contains(err.Error(), other.Name) {
		t.Errorf("a refresh over a missing kept input gave %v, %v; want an error naming %s", out, err, other.Name)
	}
	if cur, _, _ := st.Current("2026-11-21"); filepath.Base(cur) != refreshed.RunID {
		t.Errorf("current run is %s after the failed refresh, want %s", cur, refreshed.RunID)
	}
	var _ connectors.CounterFetcher = newSource()
}
