package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"settle/fixtures"
)

// TestBenchmark runs the program on a small city with faults, so it keeps working; the
// figures are for bench/README.md, never asserted here.
func TestBenchmark(t *testing.T) {
	o := options{outlets: 4, counters: 3, seed: 2, latency: time.Millisecond, concurrency: 8, runs: 3,
		failRate: 0.05, throttleRate: 0.02, truncateRate: 0.02, retryAfter: 0, backoff: time.Millisecond}
	var out bytes.Buffer
	if err := benchmark(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`run 3: 108 pulls in .*, 0 failures`).Match(out.Bytes()) ||
		!regexp.MustCompile(`median: \d+\.\d\ds over 3 runs\n$`).Match(out.Bytes()) {
		t.Errorf("output:\n%s", out.String())
	}
}

// BenchmarkPull pulls 250 counters (2,250 pulls) with 20ms of latency at concurrency 64;
// pulls/s counts the pulls' wall time alone (the reports are rendered ahead).
func BenchmarkPull(b *testing.B) {
	cfg := fixtures.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	cfg.Outlets, cfg.Counters = 50, 5
	day, err := fixtures.Generate(cfg)
	if err != nil {
		b.Fatal(err)
	}
	o := options{latency: 20 * time.Millisecond, concurrency: 64, retryAfter: time.Second, backoff: 250 * time.Millisecond, prerender: true}
	var (
		bytes int64
		wall  time.Duration // of the pulls alone, without serving and rendering
		pulls int
	)
	for b.Loop() {
		out, err := pullOnce(context.Background(), day, o, 1)
		if err != nil {
			b.Fatal(err)
		}
		bytes, wall, pulls = out.bytes, wall+out.wall, pulls+out.pulls
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(pulls)/wall.Seconds(), "pulls/s")
}
