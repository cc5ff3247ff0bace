package boss

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"settle/feed"
)

// vmHWM returns the process's peak resident set (VmHWM) in bytes, or 0 off Linux.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkHostilePulls: 4 counters × 9 feeds, every pull a gzip bomb inflating to
// 256 MiB or an endless body, pulled 32 at a time at the default limits (64 MiB a body,
// 512 MiB in flight). Every pull must fail; it reports the peak heap in use (sampled) and
// the peak resident set of the process (VmHWM: run it alone, -run '^$').
//
//	go test -run '^$' -bench HostilePulls -benchtime 1x ./connectors/boss/
func BenchmarkHostilePulls(b *testing.B) {
	var zipped bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestCompression)
	zeros := bytes.Repeat([]byte("0"), 1<<20)
	for range 256 {
		zw.Write(zeros)
	}
	zw.Close()
	line := bytes.Repeat([]byte("2026-11-21,TY,TY0001,TY0001-01,T1,10.00,CASH\r\n"), 1<<10)
	roster := "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\nTY,TY0001,TY0001-02\nTY,TY0002,TY0002-01\nTY,TY0002,TY0002-02\n合计,4\n"
	for _, kind := range []string{"gzip bomb", "endless"} {
		b.Run(kind, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/counters" {
					w.Write([]byte(roster))
					return
				}
				w.Header().Set("Content-Type", "text/csv; charset=UTF-8")
				if kind == "gzip bomb" {
					w.Header().Set("Content-Encoding", "gzip")
					w.Write(zipped.Bytes())
					return
				}
				for sent := 0; sent < 1<<30; sent += len(line) { // 1 GiB at most
					if _, err := w.Write(line); err != nil {
						return
					}
				}
			}))
			defer srv.Close()
			cfg := NewConfig()
			cfg.Base, cfg.Retries = srv.URL, 0
			if cfg.Concurrency != 32 || cfg.MaxPullBytes != 64<<20 || cfg.MaxInFlightBytes != 512<<20 {
				b.Fatalf("not the defaults: %+v", cfg)
			}
			s, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var peak uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				var ms runtime.MemStats
				t := time.NewTicker(5 * time.Millisecond)
				defer t.Stop()
				for {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
					select {
					case <-stop:
						return
					case <-t.C:
					}
				}
			})
			for b.Loop() {
				_, err := s.Fetch(context.Background(), day1, nil)
				if err == nil || !strings.Contains(err.Error(), "body over the limit of 64 MiB") {
					b.Fatalf("want every pull to fail over the limit, got %v", err)
				}
			}
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(vmHWM())/(1<<20), "VmHWM-MiB")
			b.ReportMetric(float64(s.budget.peak.Load())/(1<<20), "budget-peak-MiB")
			b.ReportMetric(float64(4*feed.Count), "pulls")
		})
	}
}
