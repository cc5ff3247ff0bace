package bench

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"settle/connectors/demo"
	"settle/connectors/file"
	"settle/engine"
	"settle/fixtures"
	"settle/job"
	"settle/report"
	"settle/store"
)

// BenchmarkFullRunCityDay is `settle run --source demo` in process: generate the demo
// city-day (457 outlets × 5 counters), reconcile it, write the run and every report (2,285
// XLSX and PDF, the roll-ups) into a store under the test's temporary directory, publish.
// Profile it with -cpuprofile / -memprofile; the process-level figures are bench/run.sh's.
func BenchmarkFullRunCityDay(b *testing.B) {
	cfg := demo.NewConfig()
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	render := job.Reports(report.NewOptions()) // as `settle run` renders
	b.ReportAllocs()
	var counters int
	for b.Loop() {
		out, err := job.Run(context.Background(), job.Config{
			Date: date, Source: demo.New(cfg), Store: st, Engine: engine.NewConfig(), Render: render,
			LockTimeout: time.Minute, FailOn: "never",
		})
		if err != nil {
			b.Fatal(err)
		}
		counters = out.Counters
	}
	b.ReportMetric(float64(counters)*float64(b.N)/b.Elapsed().Seconds(), "counters/s")
}

// BenchmarkReconcileOnlyCityDay is `settle run --source DIR --formats ”` in process over the
// canonical files of the demo city-day written to disk once: read, reconcile, write the run
// (CSV, Parquet, the normalized feeds, the manifest) and publish — what bench/run.sh times
// against the DuckDB peer.
func BenchmarkReconcileOnlyCityDay(b *testing.B) {
	cfg := demo.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	day, err := fixtures.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	src := b.TempDir()
	if err := fixtures.WriteDir(day, src); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	rows, bytes := dataLines(b, src)
	b.SetBytes(bytes)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := job.Run(context.Background(), job.Config{
			Date: cfg.Date, Source: file.New(src), Store: st, Engine: engine.NewConfig(),
			LockTimeout: time.Minute, FailOn: "never",
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// dataLines counts the data lines (less header and TOTAL footer) and bytes of the feed CSVs
// under dir.
func dataLines(b *testing.B, dir string) (rows int, bytes int64) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".csv" || d.Name() == "truth.csv" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		bytes += int64(len(data))
		rows += strings.Count(string(data), "\n") - 1
		if strings.Contains(string(data), "\nTOTAL,") {
			rows--
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return rows, bytes
}
