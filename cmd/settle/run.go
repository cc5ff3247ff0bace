package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"settle/connectors"
	"settle/connectors/boss"
	"settle/connectors/demo"
	"settle/connectors/file"
	"settle/connectors/kept"
	"settle/engine"
	"settle/feed"
	"settle/fixtures"
	"settle/job"
	"settle/money"
	"settle/period"
	"settle/store"
)

func defaultStore() string {
	if s := os.Getenv("SETTLE_STORE"); s != "" {
		return s
	}
	return "./settle-data"
}

func runCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "reconcile one business day and publish a run in the store",
		UsageText: "settle run --date DATE [--source SRC] [--store DIR] [options]",
		Flags: append(append(engineFlags(), []cli.Flag{
			&cli.StringFlag{Name: "date", Usage: "business date: YYYY-MM-DD, today or yesterday (Asia/Shanghai)"},
			&cli.StringFlag{Name: "source", Value: "demo", Usage: "a directory of exports, an http(s):// BOSS report API base URL, demo[?outlets=N&counters=K&seed=S&anomalies=R], or store:DATE (the inputs the date's current run kept)"},
			&cli.StringFlag{Name: "store", Value: defaultStore(), Usage: "run store directory (env SETTLE_STORE)"},
			&cli.StringFlag{Name: "formats", Value: "xlsx,pdf", Usage: "report formats: xlsx, pdf, both, or empty for none"},
			&cli.StringFlag{Name: "lang", Value: "zh", Usage: "language of the reports, exception details and reject reasons: zh or en"},
			&cli.StringFlag{Name: "fail-on", Value: "never", Usage: "exit 3 when exceptions of this severity or worse exist: never, error, warning"},
			&cli.DurationFlag{Name: "lock-timeout", Value: time.Hour, Usage: "how long to wait for another run of the same date"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "quiet", Usage: "no progress line and only warnings in the log"},
			&cli.StringFlag{Name: "config", Usage: "config file of key = value lines (keys are these flags' names); flags win"},
			&cli.StringFlag{Name: "counters", Usage: "refresh: read only these counters' inputs (C1,C2,…) from the source, take the rest from the date's current run, reconcile the whole day"},
		}...), opsFlags()...),
		Action: func(c *cli.Context) error {
			rec := newRunRecorder()
			defer rec.write(c, stderr) // --metrics-file: after every run, whatever happened
			if p := c.String("config"); p != "" {
				if err := applyConfig(c, p); err != nil {
					return err
				}
			}
			opts, err := runOptionsFrom(c, stderr)
			if err != nil {
				return err
			}
			opts.rec, opts.prune = rec, pruneAfterRun(c)
			return runDay(c.Context, opts, c.App.Writer)
		},
	}
}

// runOptions are the validated flags of `settle run`.
type runOptions struct {
	job      job.Config
	storeDir string
	rec      *runRecorder        // nil: no --metrics-file stages
	prune    *store.PruneOptions // --prune: the policy applied after publishing
}

func newLogger(w io.Writer, format string, quiet bool) (*slog.Logger, error) {
	level := slog.LevelInfo
	if quiet {
		level = slog.LevelWarn
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

func runOptionsFrom(c *cli.Context, stderr io.Writer) (*runOptions, error) {
	now, err := job.Clock()
	if err != nil {
		return nil, usageError{err}
	}
	progress := newProgress(stderr, c.Bool("quiet"))
	log, err := newLogger(progress.logWriter(stderr), c.String("log-format"), c.Bool("quiet"))
	if err != nil {
		return nil, err
	}
	date, err := parseDate("date", c.String("date"), time.Now())
	if err != nil {
		return nil, err
	}
	ecfg, err := engineConfigFrom(c)
	if err != nil {
		return nil, err
	}
	failOn := c.String("fail-on")
	switch failOn {
	case "never", "error", "warning":
	default:
		return nil, usagef("--fail-on %q: want never, error or warning", failOn)
	}
	render, err := rendererFrom(c.String("formats"), c.String("lang"), progress)
	if err != nil {
		return nil, err
	}
	var src connectors.Source
	if d, ok := strings.CutPrefix(c.String("source"), "store:"); ok {
		src, err = keptSource(c.String("store"), d, date)
	} else {
		src, err = sourceFrom(c.String("source"), pullOptionsFrom(c), log)
	}
	if err != nil {
		return nil, err
	}
	counters, err := countersFlag(c.String("counters"))
	if err != nil {
		return nil, err
	}
	opts := &runOptions{storeDir: c.String("store")}
	opts.job = job.Config{
		Date: date, Source: src, Engine: ecfg, Render: render, LockTimeout: c.Duration("lock-timeout"),
		FailOn: failOn, Log: log, Now: now, Counters: counters,
	}
	if progress != nil {
		opts.job.Progress = progress
	}
	return opts, nil
}

// sourceFrom picks the connector by the source's form: demo, a URL, or a directory.
func sourceFrom(src string, pull pullOptions, log *slog.Logger) (connectors.Source, error) {
	switch {
	case src == "demo" || strings.HasPrefix(src, "demo?"):
		cfg, err := demoConfig(strings.TrimPrefix(strings.TrimPrefix(src, "demo"), "?"))
		if err != nil {
			return nil, err
		}
		return demo.New(cfg), nil
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		return httpSource(src, pull, log)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, usagef("--source %q: %v", src, err)
	}
	if !fi.IsDir() {
		return nil, usagef("--source %q: not a directory", src)
	}
	return file.New(src), nil
}

// demoConfig reads demo's optional query: outlets, counters, seed, anomalies.
func demoConfig(query string) (fixtures.Config, error) {
	cfg := demo.NewConfig()
	q, err := url.ParseQuery(query)
	if err != nil {
		return cfg, usagef("--source demo?%s: %v", query, err)
	}
	for k, vs := range q {
		v := vs[len(vs)-1]
		var perr error
		switch k {
		case "outlets":
			cfg.Outlets, perr = strconv.Atoi(v)
		case "counters":
			cfg.Counters, perr = strconv.Atoi(v)
		case "seed":
			cfg.Seed, perr = strconv.ParseInt(v, 10, 64)
		case "anomalies":
			cfg.Anomalies, perr = strconv.ParseFloat(v, 64)
		default:
			return cfg, usagef("--source demo: unknown parameter %q (want outlets, counters, seed, anomalies)", k)
		}
		if perr != nil {
			return cfg, usagef("--source demo: %s=%q: %v", k, v, perr)
		}
	}
	return cfg, nil
}

// defaultMemoryLimit is the soft limit on the Go heap of `settle run` unless GOMEMLIMIT sets
// one. A run's heap is mostly the day's feeds, alive until the last report is written, and
// the collector's default (collect once the heap has doubled) let a province-day reach
// 2.8 GB. Under the limit nothing changes (a city-day stays far below it); near it the
// collector runs more often.
const defaultMemoryLimit = 1792 << 20

// refreshGCPercent is the collector's pace for `settle run --counters` unless GOGC sets one.
const refreshGCPercent = 400

func runDay(ctx context.Context, opts *runOptions, stdout io.Writer) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
		opts.job.TightLoad = true
	}
	if len(opts.job.Counters) > 0 && os.Getenv("GOGC") == "" {
		// A refresh is a clerk waiting: the collector's default pace (collect once the heap
		// has doubled) was ~0.3 s of its ~1.7 s of CPU on a city-day. At 5× the live heap it
		// costs ~90 MB more; the soft limits (TightLoad's while the day is read) still bound it.
		debug.SetGCPercent(refreshGCPercent)
	}
	// Month-end close: a date of a closed period is not rerun (exit 2, naming the period).
	if err := period.CheckOpen(opts.storeDir, opts.job.Date.Format(time.DateOnly)); err != nil {
		if errors.Is(err, period.ErrClosed) {
			return usageError{err}
		}
		return err
	}
	st, err := store.Open(opts.storeDir)
	if err != nil {
		return err
	}
	opts.job.Store = st
	if opts.rec != nil {
		opts.job = opts.rec.instrument(opts.job)
	}
	out, err := job.Run(ctx, opts.job)
	if opts.rec != nil {
		opts.rec.published(out)
	}
	if out != nil && opts.prune != nil {
		pruneAfter(ctx, st, *opts.prune, opts.job.Log)
	}
	if out != nil {
		status := "complete"
		if !out.Complete {
			status = "INCOMPLETE"
		}
		fmt.Fprintf(stdout, "%s  %s  %d counters  %d exceptions  %s\n", out.RunID, status, out.Counters, out.Exceptions, out.RunDir)
	}
	return err
}

// engineFlags are the flags of how a day is fetched and reconciled, the same for `settle run`
// and the runs `settle serve` starts.
func engineFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "lookback", Value: 90, Usage: "days a reversal may reach back into stored runs"},
		&cli.IntFlag{Name: "concurrency", Value: 32, Usage: "parallel pulls from the BOSS report API"},
		&cli.Int64Flag{Name: "max-pull-bytes", Value: boss.DefaultMaxPullBytes, Usage: "a pull or roster body larger than this many bytes after decompression fails (" + string(engine.CodeFeedMissing) + "; the roster: the run)"},
		&cli.StringFlag{Name: "amount-ceiling", Value: "1000000.00", Usage: "amounts above this many yuan are malformed"},
	}
}

// engineConfigFrom checks engineFlags and returns the engine's configuration.
func engineConfigFrom(c *cli.Context) (engine.Config, error) {
	ecfg := engine.NewConfig()
	ecfg.Lookback = c.Int("lookback")
	if ecfg.Lookback < 0 {
		return ecfg, usagef("--lookback %d: must not be negative", ecfg.Lookback)
	}
	ceiling, err := money.Parse(c.String("amount-ceiling"))
	if err != nil || ceiling == 0 {
		return ecfg, usagef("--amount-ceiling %q: want an amount in yuan above 0", c.String("amount-ceiling"))
	}
	ecfg.Ceiling = ceiling
	if c.Int("concurrency") < 1 {
		return ecfg, usagef("--concurrency %d: must be at least 1", c.Int("concurrency"))
	}
	if n := c.Int64("max-pull-bytes"); n < 1 || n > boss.MaxMaxPullBytes {
		return ecfg, usagef("--max-pull-bytes %d: must be between 1 and %d bytes", n, boss.MaxMaxPullBytes)
	}
	// --lang is checked with the formats (rendererFrom); the engine writes every exception
	// detail and reject reason in it too.
	if l := c.String("lang"); l != "" {
		ecfg.Lang = l
	}
	return ecfg, nil
}

// pullOptions are the engineFlags of the BOSS report API source.
type pullOptions struct {
	concurrency  int
	maxPullBytes int64
}

func pullOptionsFrom(c *cli.Context) pullOptions {
	return pullOptions{concurrency: c.Int("concurrency"), maxPullBytes: c.Int64("max-pull-bytes")}
}

// keptSource is --source store:DATE: the inputs the date's current run kept in the store.
func keptSource(storeDir, d string, date time.Time) (connectors.Source, error) {
	if d != date.Format("2006-01-02") {
		return nil, usagef("--source store:%s: the run is of %s; a date's kept inputs rerun that date", d, date.Format("2006-01-02"))
	}
	st, err := store.Open(storeDir)
	if err != nil {
		return nil, usagef("--source store:%s: %v", d, err)
	}
	return kept.New(st, d, ""), nil
}

// countersFlag reads --counters: comma-separated counter ids, each a valid id, no repeats.
func countersFlag(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range strings.Split(v, ",") {
		c = strings.TrimSpace(c)
		if !feed.ValidID(c) {
			return nil, usagef("--counters: %q is not a counter id (1-32 characters of [A-Za-z0-9_-])", c)
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}
