// Command refresh benchmarks a refresh of one counter (settle run --counters) and a rerun of
// an unchanged day: it generates a city-day, serves it from the simulator (fixtures/sim) in
// process with a given latency, publishes a full run with every report into a temporary
// store, then times runs over it. See bench/README.md, "Refresh and reuse".
//
//	go run ./bench/refresh                     # 457 outlets × 5 counters, 20ms, concurrency 64, 5 refreshes
//	go run ./bench/refresh -cpuprofile /tmp/refresh.pprof
//	go build -o /tmp/settle ./cmd/settle && go run ./bench/refresh -bin /tmp/settle   # every run timed from outside
//	go run ./bench/refresh -runs 9 -bin /tmp/old,/tmp/new   # two binaries, refreshes taken in turn
//	REFRESH_DEBUG=1 …                           # an incomplete run (-bin) prints its exceptions
//	REFRESH_PROFILES=DIR …                      # each run (-bin) writes DIR/run-NN.cpu
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"net/http/httptest"

	"settle/connectors/boss"
	"settle/engine"
	"settle/fixtures"
	"settle/fixtures/sim"
	"settle/job"
	"settle/money"
	"settle/report"
	"settle/store"
)

func main() {
	outlets := flag.Int("outlets", 457, "outlets in the city")
	counters := flag.Int("counters", 5, "counters per outlet")
	latency := flag.Duration("latency", 20*time.Millisecond, "simulator latency per request")
	conc := flag.Int("concurrency", 64, "pulls in flight")
	runs := flag.Int("runs", 5, "refreshes to time (the median is reported)")
	counter := flag.String("counter", "TY0100-03", "the counter refreshed")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed refreshes to this file")
	bin := flag.String("bin", "", "time every run as a new user makes it, from outside: this settle binary run as a process (built with go build ./cmd/settle), not job.Run in this one")
	correct := flag.Bool("correct", true, "before each refresh, change the counter's first deposit at the source (as a clerk's correction in BOSS): its reports, its outlet's and the city's are rendered again")
	flag.Parse()
	if err := bench(context.Background(), *outlets, *counters, *latency, *conc, *runs, *counter, *cpuprofile, *bin, *correct, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "refresh:", err)
		os.Exit(1)
	}
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// correcting serves the simulator's reports, the counter's deposit report with its first
// deposit raised by delta fen (canonical dialect: no footer to follow).
type correcting struct {
	h       http.Handler
	counter string
	delta   atomic.Int64
}

func (c *correcting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := c.delta.Load()
	if d == 0 || r.URL.Path != "/reports/deposit" || r.URL.Query().Get("counter") != c.counter {
		c.h.ServeHTTP(w, r)
		return
	}
	r.Header.Del("Accept-Encoding")
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	body := rec.Body.String()
	if rec.Code == http.StatusOK {
		body = raiseFirstAmount(body, d)
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	io.WriteString(w, body)
}

// raiseFirstAmount adds delta fen to the amount of a CSV report's first data row, and to its
// 合计 (TOTAL) footer's, so that the report stays whole: the correction a clerk makes in BOSS.
func raiseFirstAmount(body string, delta int64) string {
	lines := strings.Split(body, "\n")
	col, raised := -1, false
	raise := func(i int, f []string) bool {
		fen, err := money.Parse(f[col])
		if err != nil {
			return false
		}
		f[col] = money.Format(fen + delta)
		cr := strings.HasSuffix(lines[i], "\r")
		lines[i] = strings.Join(f, ",")
		if cr {
			lines[i] += "\r"
		}
		return true
	}
	for i, ln := range lines {
		f := strings.Split(strings.TrimRight(ln, "\r"), ",")
		if col < 0 {
			col = slices.Index(f, "amount")
			continue
		}
		if f[0] == "合计" || strings.EqualFold(f[0], "TOTAL") {
			if len(f) <= col {
				return body
			}
			if raised && !raise(i, f) {
				return body
			}
			break
		}
		if len(f) <= col {
			continue
		}
		if !raised {
			if !raise(i, f) {
				return body
			}
			raised = true
		}
	}
	return strings.Join(lines, "\n")
}

func bench(ctx context.Context, outlets, counters int, latency time.Duration, conc, runs int, counter, profile, bin string, correct bool, w io.Writer) error {
	cfg := fixtures.NewConfig()
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	cfg.Date, cfg.Outlets, cfg.Counters = date, outlets, counters
	day, err := fixtures.Generate(cfg)
	if err != nil {
		return err
	}
	scfg := sim.NewConfig()
	scfg.Latency = latency
	scfg.Dialect = fixtures.DialectCanonical
	sh, err := sim.New(day, scfg)
	if err != nil {
		return err
	}
	h := &correcting{h: sh, counter: counter}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	dir, err := os.MkdirTemp("", "settle-refresh-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		return err
	}
	var rendered []string // the reports the last run rendered (not reused)
	incomplete := false   // the last run published an incomplete day
	profiled := 0         // runs profiled (REFRESH_PROFILES)
	readRendered := func(runDir, runID string) {
		if m, err := store.ReadManifest(filepath.Join(runDir, store.ManifestName)); err == nil {
			rendered = rendered[:0]
			for rel, r := range m.Reports {
				if r.RenderedIn == runID {
					rendered = append(rendered, rel)
				}
			}
			slices.Sort(rendered)
		}
	}
	// outside runs the binary: wall from start to exit, CPU of the process.
	outside := func(bin string, st *store.Store, cs []string) (time.Duration, time.Duration, error) {
		args := []string{"run", "--date", date.Format(time.DateOnly), "--source", "http://" + ln.Addr().String(), "--store", st.Dir(),
			"--concurrency", fmt.Sprint(conc), "--fail-on", "never"}
		if len(cs) > 0 {
			args = append(args, "--counters", strings.Join(cs, ","))
		}
		incomplete = false
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "SETTLE_BOSS_TOKEN=bench")
		if d := os.Getenv("REFRESH_PROFILES"); d != "" { // a CPU profile of each run, numbered
			profiled++
			cmd.Env = append(cmd.Env, fmt.Sprintf("SETTLE_CPUPROFILE=%s/run-%02d.cpu", d, profiled))
		}
		var errOut strings.Builder
		cmd.Stderr = &errOut
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 { // 4: published, incomplete (said below)
				return 0, 0, fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, errOut.String())
			}
			incomplete = true
			if os.Getenv("REFRESH_DEBUG") != "" {
				cur, _, _ := st.Current(date.Format(time.DateOnly))
				b, _ := os.ReadFile(filepath.Join(cur, "exceptions.csv"))
				fmt.Fprintln(os.Stderr, string(b))
			}
		}
		wall := time.Since(t0)
		c := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if cur, ok, err := st.Current(date.Format(time.DateOnly)); err == nil && ok {
			readRendered(cur, filepath.Base(cur))
		}
		return wall, c, nil
	}
	one := func(cs []string) (time.Duration, time.Duration, error) {
		if bin != "" {
			return outside(bin, st, cs)
		}
		bcfg := boss.NewConfig()
		bcfg.Base, bcfg.Concurrency = "http://"+ln.Addr().String(), conc
		src, err := boss.New(bcfg)
		if err != nil {
			return 0, 0, err
		}
		opts := report.NewOptions()
		t0, c0 := time.Now(), cpu()
		out, err := job.Run(ctx, job.Config{Date: date, Source: src, Store: st, Engine: engine.NewConfig(), Render: job.Reports(opts),
			LockTimeout: time.Minute, FailOn: "never", Counters: cs, Log: slog.New(slog.DiscardHandler)})
		if err != nil && err != job.ErrIncomplete {
			return 0, 0, err
		}
		incomplete = err == job.ErrIncomplete
		wall, c := time.Since(t0), cpu()-c0
		readRendered(out.RunDir, out.RunID)
		return wall, c, nil
	}
	if bins := strings.Split(bin, ","); len(bins) > 1 {
		return alternate(bins, dir, runs, counter, correct, h, outside, w)
	}
	wall, c, err := one(nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "full run: %d counters, %.2fs wall, %.2fs CPU, incomplete %v\n", len(day.Roster()), wall.Seconds(), c.Seconds(), incomplete)
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for _, kind := range []struct {
		name string
		cs   []string
	}{{"refresh " + counter, []string{counter}}, {"rerun (all pulls)", nil}} {
		var walls []time.Duration
		n := runs
		if kind.cs == nil {
			n = max(1, runs/2)
		}
		for i := range n {
			if correct && kind.cs != nil {
				h.delta.Add(100) // one yuan more each time: every refresh changes the day
			}
			wall, c, err := one(kind.cs)
			if err != nil {
				return err
			}
			walls = append(walls, wall)
			fmt.Fprintf(w, "%s %d: %.2fs wall, %.2fs CPU, incomplete %v, %d reports rendered %v\n", kind.name, i+1, wall.Seconds(), c.Seconds(), incomplete, len(rendered), rendered)
		}
		if profile != "" && kind.cs != nil {
			pprof.StopCPUProfile() // the profile is of the refreshes only
		}
		fmt.Fprintf(w, "%s median: %.2fs over %d\n", kind.name, median(walls).Seconds(), len(walls))
	}
	return nil
}

// alternate compares binaries (-bin A,B): each has its own store (a parse cache, a feed's and
// a report's content key name the build that wrote them, so one binary's runs are no use to
// another's), a full run each, then refreshes taken in turn, A B A B…, so that both see the
// same phases of a shared, drifting machine. It prints each one's median and the median of
// the pairs' ratios (each binary over the first).
func alternate(bins []string, dir string, runs int, counter string, correct bool, h *correcting,
	outside func(string, *store.Store, []string) (time.Duration, time.Duration, error), w io.Writer) error {
	stores := make([]*store.Store, len(bins))
	for i, b := range bins {
		st, err := store.Open(filepath.Join(dir, fmt.Sprintf("store-%d", i)))
		if err != nil {
			return err
		}
		stores[i] = st
		wall, c, err := outside(b, st, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "full run, %s: %.2fs wall, %.2fs CPU\n", b, wall.Seconds(), c.Seconds())
	}
	// The full runs' files are written out, and each binary refreshes once untimed, before
	// the refreshes are timed: a refresh's syncfs waits for every dirty page of the disk.
	syscall.Sync()
	for i, b := range bins {
		if _, _, err := outside(b, stores[i], []string{counter}); err != nil {
			return err
		}
	}
	walls := make([][]time.Duration, len(bins))
	cpus := make([][]time.Duration, len(bins))
	for r := range runs {
		for i, b := range bins {
			if correct {
				h.delta.Add(100)
			}
			wall, c, err := outside(b, stores[i], []string{counter})
			if err != nil {
				return err
			}
			walls[i] = append(walls[i], wall)
			cpus[i] = append(cpus[i], c)
			fmt.Fprintf(w, "refresh %s %d, %s: %.2fs wall, %.2fs CPU\n", counter, r+1, b, wall.Seconds(), c.Seconds())
		}
	}
	for i, b := range bins {
		line := fmt.Sprintf("refresh %s median, %s: %.2fs wall, %.2fs CPU over %d", counter, b, median(walls[i]).Seconds(), median(cpus[i]).Seconds(), runs)
		if i > 0 {
			ratios := make([]float64, runs)
			for r := range runs {
				ratios[r] = walls[i][r].Seconds() / walls[0][r].Seconds()
			}
			slices.Sort(ratios)
			line += fmt.Sprintf("; pairs' median ratio to %s: %.3f", bins[0], ratios[runs/2])
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// median is the middle of ds (the upper one of an even count), ds left as it is.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
