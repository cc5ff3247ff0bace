// Command pull benchmarks the BOSS report API connector end to end: it generates a
// city-day, serves it from the simulator (fixtures/sim) in process on a loopback port
// with a given latency and faults, and pulls it with connectors/boss, printing the wall
// time of each run and their median. See bench/README.md.
//
//	go run ./bench/pull                      # 457 outlets × 5 counters × 9 feeds, 20ms, concurrency 64
//	go run ./bench/pull -runs 5 -fail-rate 0.05 -throttle-rate 0.02 -truncate-rate 0.02
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"settle/connectors"
	"settle/connectors/boss"
	"settle/fixtures"
	"settle/fixtures/sim"
	"settle/store"
)

// options of one benchmark.
type options struct {
	outlets, counters int
	seed              int64
	anomalies         float64
	latency           time.Duration
	concurrency       int
	runs              int
	failRate          float64
	throttleRate      float64
	truncateRate      float64
	retryAfter        time.Duration
	backoff           time.Duration
	prerender         bool
	// keep: each run keeps the bodies as they arrive in a fresh store under this folder
	// (store.Keeper, as `settle run` does), else they are held in memory.
	keep string
}

// outcome of one run.
type outcome struct {
	wall, cpu                time.Duration // cpu: user + system time of the process (connector and simulator)
	heap                     uint64        // the most the Go heap grew over the run, sampled every 5 ms, the day held included
	pulls, retries, failures int
	bytes                    int64
	requests, faultsThrown   int64
}

func main() {
	var o options
	flag.IntVar(&o.outlets, "outlets", 457, "outlets in the city")
	flag.IntVar(&o.counters, "counters", 5, "counters per outlet")
	flag.Int64Var(&o.seed, "seed", 1, "generator seed")
	flag.Float64Var(&o.anomalies, "anomalies", 0, "generator anomaly rate")
	flag.DurationVar(&o.latency, "latency", 20*time.Millisecond, "simulator latency per request")
	flag.IntVar(&o.concurrency, "concurrency", 64, "pulls in flight")
	flag.IntVar(&o.runs, "runs", 3, "runs to time (the median is reported)")
	flag.Float64Var(&o.failRate, "fail-rate", 0, "simulator: probability of a 503")
	flag.Float64Var(&o.throttleRate, "throttle-rate", 0, "simulator: probability of a 429")
	flag.Float64Var(&o.truncateRate, "truncate-rate", 0, "simulator: probability of a body cut short")
	flag.DurationVar(&o.retryAfter, "retry-after", time.Second, "simulator: the Retry-After of a 429")
	flag.DurationVar(&o.backoff, "backoff", boss.DefaultBackoffBase, "connector: backoff base")
	flag.BoolVar(&o.prerender, "prerender", false, "simulator: render every report before the clock starts (else each on its first request, inside the timed run)")
	flag.StringVar(&o.keep, "keep", "", "keep the bodies as they arrive in a store under this folder (as settle run does); else they are held in memory")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "pull:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := benchmark(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pull:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// benchmark generates the day once, then times o.runs pulls of it and prints each and the
// median.
func benchmark(ctx context.Context, o options, w io.Writer) error {
	cfg := fixtures.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies = o.outlets, o.counters, o.seed, o.anomalies
	t0 := time.Now()
	day, err := fixtures.Generate(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "generated %d counters in %v; GOMAXPROCS %d\n", len(day.Roster()), time.Since(t0).Round(time.Millisecond), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "latency %v, concurrency %d, faults 503 %.0f%% / 429 %.0f%% (Retry-After %v) / cut %.0f%%, reports prerendered %v, bodies kept in a store %v\n",
		o.latency, o.concurrency, 100*o.failRate, 100*o.throttleRate, o.retryAfter, 100*o.truncateRate, o.prerender, o.keep != "")
	var walls []time.Duration
	for i := range o.runs {
		out, err := pullOnce(ctx, day, o, uint64(i+1))
		if err != nil {
			return err
		}
		walls = append(walls, out.wall)
		fmt.Fprintf(w, "run %d: %d pulls in %.2fs (%.0f pulls/s, CPU %.2fs, heap +%.0f MB), %d retries, %d failures, %.1f MB; simulator: %d requests, %d faults\n",
			i+1, out.pulls, out.wall.Seconds(), float64(out.pulls)/out.wall.Seconds(), out.cpu.Seconds(), float64(out.heap)/1e6, out.retries, out.failures,
			float64(out.bytes)/1e6, out.requests, out.faultsThrown)
	}
	slices.Sort(walls)
	fmt.Fprintf(w, "median: %.2fs over %d runs\n", walls[len(walls)/2].Seconds(), len(walls))
	return nil
}

// pullOnce serves day on a fresh loopback port and pulls it once.
func pullOnce(ctx context.Context, day *fixtures.Day, o options, faultSeed uint64) (*outcome, error) {
	scfg := sim.NewConfig()
	scfg.Latency, scfg.Seed = o.latency, faultSeed
	scfg.FailRate, scfg.ThrottleRate, scfg.TruncateRate, scfg.RetryAfter = o.failRate, o.throttleRate, o.truncateRate, o.retryAfter
	h, err := sim.New(day, scfg)
	if err != nil {
		return nil, err
	}
	if o.prerender {
		if err := h.Prerender(ctx); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	bcfg := boss.NewConfig()
	bcfg.Base, bcfg.Concurrency, bcfg.BackoffBase = "http://"+ln.Addr().String(), o.concurrency, o.backoff
	src, err := boss.New(bcfg)
	if err != nil {
		return nil, err
	}
	fctx, flush := ctx, func() error { return nil }
	if o.keep != "" {
		dir, err := os.MkdirTemp(o.keep, "pull-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		st, err := store.Open(dir)
		if err != nil {
			return nil, err
		}
		k, err := st.Keeper(day.Config.Date.Format(time.DateOnly))
		if err != nil {
			return nil, err
		}
		fctx = connectors.WithKeeper(ctx, k)
		flush = k.Flush
	}
	runtime.GC() // start each run from the same heap
	heap0 := heapBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the heap's peak, sampled
		defer close(sampled)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start, cpu0 := time.Now(), cpuTime()
	got, err := src.Fetch(fctx, day.Config.Date, nil)
	if ferr := flush(); err == nil {
		err = ferr
	}
	close(stop)
	<-sampled
	if err != nil {
		return nil, err
	}
	out := &outcome{wall: time.Since(start), cpu: cpuTime() - cpu0, heap: peak.Load() - min(heap0, peak.Load())}
	for _, st := range got.Stats {
		out.pulls += st.Pulls
		out.retries += st.Retries
		out.failures += st.Failures
		out.bytes += st.Bytes
	}
	ss := h.Stats()
	out.requests, out.faultsThrown = ss.Requests, ss.Failed+ss.Throttled+ss.Truncated
	if out.pulls != h.Pulls() {
		return nil, errors.New("not every pull was made")
	}
	return out, nil
}

// heapBytes returns the bytes of the Go heap's live and not yet collected objects.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
