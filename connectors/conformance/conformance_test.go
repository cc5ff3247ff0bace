package conformance

import (
	"net/http/httptest"
	"testing"
	"time"

	"settle/connectors/boss"
	"settle/connectors/demo"
	"settle/connectors/file"
	"settle/engine"
	"settle/fixtures"
	"settle/fixtures/sim"
)

var date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)

// generate makes the shared day in a given dialect and layout (which change only how it
// is written).
func generate(t *testing.T, dialect, layout string, feedFaults bool) *fixtures.Day {
	t.Helper()
	cfg := fixtures.NewConfig()
	cfg.Date, cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies = date, 20, 3, 5, 0.3
	cfg.Dialect, cfg.Layout, cfg.FeedFaults = dialect, layout, feedFaults
	day, err := fixtures.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return day
}

// faultySim serves day with the faults of the issue: 5% 503, 2% 429, 2% cut short.
func faultySim(t *testing.T, day *fixtures.Day) (*boss.Source, *sim.Server) {
	t.Helper()
	scfg := sim.NewConfig()
	scfg.FailRate, scfg.ThrottleRate, scfg.TruncateRate = 0.05, 0.02, 0.02
	scfg.RetryAfter = 0 // honoured, and keeps the test fast
	s, err := sim.New(day, scfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfg := boss.NewConfig()
	cfg.Base, cfg.Concurrency = srv.URL, 8
	cfg.BackoffBase, cfg.BackoffMax = time.Millisecond, 10*time.Millisecond
	src, err := boss.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src, s
}

// TestConnectorsAgree runs one generated day through every connector — the file connector
// on both dialects × both layouts, the demo, and the BOSS API connector against the
// simulator throwing faults — and asserts they all find the truth and publish the same
// settlement, variance and exceptions.
func TestConnectorsAgree(t *testing.T) {
	type run struct {
		name string
		sum  *Summary
	}
	var runs []run
	for _, dialect := range []string{fixtures.DialectCanonical, fixtures.DialectBOSS} {
		for _, layout := range []string{fixtures.LayoutCity, fixtures.LayoutCounter} {
			day := generate(t, dialect, layout, false)
			dir := t.TempDir()
			if err := fixtures.WriteDir(day, dir); err != nil {
				t.Fatal(err)
			}
			name := "file-" + dialect + "-" + layout
			runs = append(runs, run{name, Run(t, name, file.New(dir), day)})
		}
	}
	day := generate(t, fixtures.DialectCanonical, fixtures.LayoutCity, false)
	runs = append(runs, run{"demo", Run(t, "demo", demo.New(day.Config), day)})

	src, s := faultySim(t, day)
	runs = append(runs, run{"boss", Run(t, "boss", src, day)})
	st := s.Stats()
	if st.Failed == 0 || st.Throttled == 0 || st.Truncated == 0 {
		t.Errorf("the simulator threw too few faults to prove anything: %+v", st)
	}
	t.Logf("simulator: %+v", st)

	if runs[0].sum == nil || len(runs[0].sum.Exceptions) == 0 {
		t.Fatal("the reference run found nothing")
	}
	for _, r := range runs[1:] {
		if d := Compare(runs[0].name, runs[0].sum, r.name, r.sum); d != "" {
			t.Errorf("%s differs from %s:\n%s", r.name, runs[0].name, d)
		}
	}
}

// TestFeedFaultsAgree: with FEED_MISSING and FEED_TOTAL_MISMATCH injected, a pull that the
// API withholds (404) and a per-counter file that is not there give the same findings,
// and so does a footer off by one, whether pulled or read from a file.
func TestFeedFaultsAgree(t *testing.T) {
	var ref *Summary
	for _, dialect := range []string{fixtures.DialectCanonical, fixtures.DialectBOSS} {
		day := generate(t, dialect, fixtures.LayoutCounter, true)
		dir := t.TempDir()
		if err := fixtures.WriteDir(day, dir); err != nil {
			t.Fatal(err)
		}
		sum := Run(t, "file-"+dialect, file.New(dir), day)
		if ref == nil {
			ref = sum
		} else if d := Compare("file-canonical", ref, "file-"+dialect, sum); d != "" {
			t.Errorf("file-%s differs:\n%s", dialect, d)
		}
	}
	day := generate(t, fixtures.DialectBOSS, fixtures.LayoutCounter, true)
	src, _ := faultySim(t, day)
	sum := Run(t, "boss", src, day)
	if d := Compare("file-canonical", ref, "boss", sum); d != "" {
		t.Errorf("boss differs:\n%s", d)
	}
}

func TestNormalizeDetail(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`IMEI "86" already sold on T1 (TY0014/太原_TY0014-03_购机日报.csv:4)`, `IMEI "86" already sold on T1 (<src>)`},
		{`串号 "86" 已售出：T1（TY0014/太原_TY0014-03_购机日报.csv:4）`, `串号 "86" 已售出：T1（<src>）`},
		{`串号 "86" 已售出：T1（purchase/TY0014-03）`, `串号 "86" 已售出：T1（<src>）`},
		{`流水号 "L1" 已出现；此行与保留的行（本地缴费日报 lp.csv:2）不同`, `流水号 "L1" 已出现；此行与保留的行（本地缴费日报 <src>）不同`},
	} {
		if got := NormalizeDetail(tt.in); got != tt.want {
			t.Errorf("NormalizeDetail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
