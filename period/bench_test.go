package period

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"settle/engine"
	"settle/feed"
	"settle/store"
)

// synthStore publishes, straight through store/ (no engine), days × counters of synthetic
// runs: per counter 8 settlement lines, 4 variance lines (some short or over) and 1 finding,
// 8 counters an outlet. It returns the store's directory.
func synthStore(tb testing.TB, dir string, days, counters int) {
	tb.Helper()
	st, err := store.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	cats := []string{"ORDER_FEE", "TERMINAL", "LOCAL_BILL", "REMOTE_BILL"}
	pays := []string{"CASH", "POS", "WECHAT", "ALIPAY"}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for d := range days {
		date := start.AddDate(0, 0, d)
		rng := rand.New(rand.NewPCG(uint64(d), 7))
		res := &engine.Result{Date: date, Complete: true}
		for c := range counters {
			outlet := fmt.Sprintf("PV%04d", c/8)
			counter := fmt.Sprintf("%s-%02d", outlet, c%8)
			res.Counters = append(res.Counters, engine.CounterInfo{City: "PV", Outlet: outlet, Counter: counter})
			for i := range 8 {
				gross := int64(rng.IntN(500000))
				rev := int64(rng.IntN(2)) * int64(rng.IntN(10000))
				res.Settlement = append(res.Settlement, engine.SettlementLine{City: "PV", Outlet: outlet, Counter: counter,
					Category: cats[i%4], PayMethod: pays[i/2], TxnCount: int64(rng.IntN(40) + 1), Gross: gross, Reversed: rev, Net: gross - rev})
			}
			for _, p := range pays {
				exp := int64(rng.IntN(1000000))
				v := int64(0)
				if rng.IntN(10) == 0 {
					v = int64(rng.IntN(40000) - 20000)
				}
				res.Variance = append(res.Variance, engine.VarianceLine{City: "PV", Outlet: outlet, Counter: counter, PayMethod: p, Expected: exp, Deposited: exp + v, Variance: v})
			}
			res.Exceptions = append(res.Exceptions, engine.Exception{Code: engine.CodeDepositShort, Severity: engine.SevError, City: "PV", Outlet: outlet, Counter: counter,
				Amount: -100, HasAmount: true, Detail: "synthetic", Source: "deposit/" + counter, Key: "CASH"})
		}
		ds := date.Format(time.DateOnly)
		unlock, err := st.Lock(context.Background(), ds, time.Minute, nil)
		if err != nil {
			tb.Fatal(err)
		}
		id := store.NewRunID(date.Add(30*time.Hour), ds)
		run, err := st.Begin(ds, id)
		if err != nil {
			tb.Fatal(err)
		}
		if err := store.WriteTables(run, res); err != nil {
			tb.Fatal(err)
		}
		if err := store.WriteFeeds(run, [feed.Count]arrow.RecordBatch{}); err != nil {
			tb.Fatal(err)
		}
		m := store.NewManifest(res, nil, store.Meta{RunID: id, ToolVersion: "bench"})
		if err := store.WriteManifest(run, m); err != nil {
			tb.Fatal(err)
		}
		if err := run.Publish(); err != nil {
			tb.Fatal(err)
		}
		unlock()
	}
}

var synthOnce sync.Map // "days×counters" → directory

func synthDir(b *testing.B, days, counters int) string {
	key := fmt.Sprintf("%dx%d", days, counters)
	if v, ok := synthOnce.Load(key); ok {
		return v.(string)
	}
	// SETTLE_PERIOD_BENCH_DIR keeps the synthetic stores between processes (for timing the
	// command line on them, see bench/README.md); else a temporary directory per process.
	var dir string
	if keep := os.Getenv("SETTLE_PERIOD_BENCH_DIR"); keep != "" {
		dir = filepath.Join(keep, key)
		if _, err := os.Stat(filepath.Join(dir, "2026-11-30")); err == nil {
			synthOnce.Store(key, dir)
			return dir
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
	} else {
		d, err := os.MkdirTemp("", "settle-period-bench-")
		if err != nil {
			b.Fatal(err)
		}
		dir = d
		b.Cleanup(func() { os.RemoveAll(d) })
	}
	t0 := time.Now()
	synthStore(b, dir, days, counters)
	b.Logf("synthetic store %s: %d days × %d counters in %s", dir, days, counters, time.Since(t0).Round(time.Millisecond))
	synthOnce.Store(key, dir)
	return dir
}

func benchPeriod(b *testing.B, counters int) {
	dir := synthDir(b, 30, counters)
	p := Period{"2026-11-01", "2026-11-30"}
	n := 0
	b.ResetTimer()
	for b.Loop() {
		n++
		at := time.Date(2026, 12, 1, 0, 0, n, 0, time.UTC)
		out, err := Run(context.Background(), Options{StoreDir: dir, Period: p, SignOffs: fakeSignOffs{}, XLSX: true, PDF: true,
			Lang: "zh", Now: func() time.Time { return at }})
		if err != nil {
			b.Fatal(err)
		}
		if !out.Complete || out.Manifest.Counters != counters {
			b.Fatalf("period: complete %v, %d counters", out.Complete, out.Manifest.Counters)
		}
	}
	b.StopTimer()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB")
	}
}

// BenchmarkCityMonth: 30 days × 2,285 counters, from published runs to every period output
// (target ≤ 3 s).
func BenchmarkCityMonth(b *testing.B) { benchPeriod(b, 2285) }

// BenchmarkProvinceMonth: 30 days × 25,000 counters (target ≤ 30 s, < 2 GiB). Building its
// synthetic store takes minutes; run it alone: go test -run '^$' -bench ProvinceMonth ./period/
func BenchmarkProvinceMonth(b *testing.B) { benchPeriod(b, 25000) }
