// Package bench holds end-to-end benchmarks of settle; see README.md beside this file.
package bench

import (
	"context"
	"testing"
	"time"

	"settle/connectors/demo"
	"settle/engine"
)

// BenchmarkReconcileCityDay reconciles the demo city-day (457 outlets × 5 counters) from
// bytes already fetched: parsing, Arrow loading and every rule, no store and no reports.
func BenchmarkReconcileCityDay(b *testing.B) {
	cfg := demo.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	day, err := demo.New(cfg).Fetch(context.Background(), cfg.Date, nil)
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for _, s := range day.Stats {
		bytes += s.Bytes
	}
	ecfg := engine.NewConfig()
	ecfg.Date = cfg.Date
	b.SetBytes(bytes)
	b.ReportAllocs()
	var rows int
	for b.Loop() {
		res, err := engine.Reconcile(context.Background(), ecfg, day)
		if err != nil {
			b.Fatal(err)
		}
		rows = 0
		for _, c := range res.Counts {
			rows += c.Read
		}
		res.Release()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
