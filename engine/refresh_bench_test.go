package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"settle/connectors"
	"settle/connectors/file"
	"settle/engine"
	"settle/feed"
	"settle/fixtures"
	"settle/money"
)

// refreshDay is a city-day (457 outlets × 5 counters, one input per counter and feed: 20,565
// inputs, as a pulled day) read into memory, each input with its sha256 (Input.Kept).
func refreshDay(b *testing.B) *connectors.Day {
	b.Helper()
	cfg := fixtures.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	cfg.Outlets, cfg.Counters = 457, 5
	cfg.Dialect, cfg.Layout = fixtures.DialectCanonical, fixtures.LayoutCounter
	d, err := fixtures.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := fixtures.WriteDir(d, dir); err != nil {
		b.Fatal(err)
	}
	day, err := file.New(dir).Fetch(context.Background(), cfg.Date, nil)
	if err != nil {
		b.Fatal(err)
	}
	out := *day
	out.Inputs = make([]connectors.Input, len(day.Inputs))
	for i, in := range day.Inputs {
		out.Inputs[i] = keptInput(b, in, nil)
	}
	return &out
}

// keptInput is in held in memory with its sha256 (its bytes, or data when not nil).
func keptInput(b *testing.B, in connectors.Input, data []byte) connectors.Input {
	if data == nil {
		rc, err := in.Open()
		if err != nil {
			b.Fatal(err)
		}
		data, err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	sum := sha256.Sum256(data)
	in.Kept, in.Size = hex.EncodeToString(sum[:]), int64(len(data))
	in.Open = connectors.CheckedBytes(data, sum)
	return in
}

// raiseFirst adds delta fen to the amount of a canonical CSV's first data row.
func raiseFirst(b *testing.B, data []byte, delta int64) []byte {
	lines := bytes.Split(data, []byte("\n"))
	col := slices.Index(strings.Split(strings.TrimRight(string(lines[0]), "\r"), ","), "amount")
	if col < 0 || len(lines) < 2 {
		b.Fatal("no amount column or no row")
	}
	f := bytes.Split(bytes.TrimRight(lines[1], "\r"), []byte(","))
	fen, err := money.Parse(string(f[col]))
	if err != nil {
		b.Fatal(err)
	}
	f[col] = []byte(money.Format(fen + delta))
	lines[1] = bytes.Join(f, []byte(","))
	return bytes.Join(lines, []byte("\n"))
}

// BenchmarkRefreshLoadApply is the engine's part of a clerk's refresh of one counter on a
// city-day (job's `--counters`): every input but the counter's deposit report comes from the
// parse cache an earlier run wrote; the deposit changed at the source (its first amount, by
// one yuan more each time), so it is parsed and the deposit feed's cache file written again.
// It reports the wall of Load and of Apply (medians over the iterations) beside the total.
func BenchmarkRefreshLoadApply(b *testing.B) {
	day := refreshDay(b)
	victim := -1
	for i, in := range day.Inputs {
		if in.Feed == feed.Deposit && in.Counter == "TY0100-03" {
			victim = i
		}
	}
	if victim < 0 {
		b.Fatal("no deposit input of TY0100-03")
	}
	rc, err := day.Inputs[victim].Open()
	if err != nil {
		b.Fatal(err)
	}
	orig, _ := io.ReadAll(rc)
	rc.Close()
	cfg := engine.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	cfg.CacheDir = b.TempDir()
	run := func() (load, apply time.Duration) {
		t0 := time.Now()
		lo, err := engine.Load(context.Background(), cfg, day)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		res, err := lo.Apply()
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := res.CacheWritten(); err != nil {
			b.Fatal(err)
		}
		res.Release()
		return t1.Sub(t0), t2.Sub(t1)
	}
	run() // the earlier run: writes the cache
	var loads, applies []time.Duration
	delta := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		delta += 100
		day.Inputs[victim] = keptInput(b, day.Inputs[victim], raiseFirst(b, orig, delta))
		l, a := run()
		loads, applies = append(loads, l), append(applies, a)
	}
	med := func(d []time.Duration) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	b.ReportMetric(med(loads), "load-ms")
	b.ReportMetric(med(applies), "apply-ms")
}

// BenchmarkRuleGroups times each of Apply's rule groups alone, on one goroutine, over the
// city-day of BenchmarkRefreshLoadApply ("newDay" builds the indexes they share; the other
// groups' times exclude it).
func BenchmarkRuleGroups(b *testing.B) {
	day := refreshDay(b)
	cfg := engine.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	lo, err := engine.Load(context.Background(), cfg, day)
	if err != nil {
		b.Fatal(err)
	}
	defer lo.Release()
	d := engine.NewRuleDay(lo)
	for i, name := range engine.RuleGroups {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				engine.RunRuleGroup(lo, d, i)
			}
		})
	}
}

// BenchmarkReconcilePerCounterDay reconciles the city-day of BenchmarkRefreshLoadApply
// (20,565 per-counter inputs, as a pulled day) without a parse cache: every input parsed.
func BenchmarkReconcilePerCounterDay(b *testing.B) {
	day := refreshDay(b)
	cfg := engine.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	b.ReportAllocs()
	for b.Loop() {
		res, err := engine.Reconcile(context.Background(), cfg, day)
		if err != nil {
			b.Fatal(err)
		}
		res.Release()
	}
}
