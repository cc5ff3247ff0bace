package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"settle/connectors"
	"settle/engine"
	"settle/job"
	"settle/metrics"
	"settle/store"
)

// runRecorder collects what `settle run --metrics-file` writes: the stages' durations and,
// when a run was published, its manifest. It is written at the end of every run, whatever
// happened, from the command's Action (so a usage error counts as a failed night too).
type runRecorder struct {
	started time.Time
	mu      sync.Mutex
	stages  map[string]time.Duration
	runDir  string // the published run, or ""
}

func newRunRecorder() *runRecorder {
	return &runRecorder{started: time.Now(), stages: map[string]time.Duration{}}
}

func (r *runRecorder) stage(name string, d time.Duration) {
	r.mu.Lock()
	r.stages[name] += d
	r.mu.Unlock()
}

// instrument times the fetch and the render of cfg.
func (r *runRecorder) instrument(cfg job.Config) job.Config {
	cfg.Source = timed(cfg.Source, r)
	if render := cfg.Render; render != nil {
		cfg.Render = func(ctx context.Context, res *engine.Result, run *store.Run, meta store.Meta) error {
			t := time.Now()
			defer func() { r.stage("render", time.Since(t)) }()
			return render(ctx, res, run, meta)
		}
	}
	return cfg
}

// published records the run job.Run published (out may be nil).
func (r *runRecorder) published(out *job.Outcome) {
	if out != nil {
		r.runDir = out.RunDir
	}
}

// write writes the textfile at path, if any. Its own errors are logged: the exit code stays
// the run's.
func (r *runRecorder) write(c *cli.Context, stderr io.Writer) {
	path := c.String("metrics-file")
	if path == "" {
		return
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m := &metrics.Run{City: c.String("metrics-city"), Started: r.started, Finished: time.Now(), Stages: r.stages}
	if counters, err := countersFlag(c.String("counters")); err == nil {
		m.Refresh = len(counters)
	} else { // a usage error: a failed refresh all the same
		m.Refresh = max(1, strings.Count(c.String("counters"), ",")+1)
	}
	if r.runDir != "" {
		man, err := store.ReadManifest(filepath.Join(r.runDir, "manifest.json"))
		if err != nil {
			log.Error("metrics: read the published manifest", "err", err)
		} else {
			m.Published, m.Manifest = true, man
		}
	}
	prevErr, err := metrics.WriteRunFile(path, m)
	if prevErr != nil {
		log.Warn("metrics: the previous textfile is not carried over", "err", prevErr)
	}
	if err != nil {
		log.Error("metrics: write the textfile", "err", err)
	}
}

// timedSource is a source whose Fetch is timed as the "fetch" stage.
type timedSource struct {
	connectors.Source
	r *runRecorder
}

func (s timedSource) Fetch(ctx context.Context, date time.Time, p connectors.Progress) (*connectors.Day, error) {
	t := time.Now()
	defer func() { s.r.stage("fetch", time.Since(t)) }()
	return s.Source.Fetch(ctx, date, p)
}

// timedCounterSource is a timedSource over a connectors.CounterFetcher: a refresh
// (--counters) needs the inner source's FetchCounters, timed as the same stage.
type timedCounterSource struct{ timedSource }

func (s timedCounterSource) FetchCounters(ctx context.Context, date time.Time, counters []string, p connectors.Progress) (*connectors.Day, error) {
	t := time.Now()
	defer func() { s.r.stage("fetch", time.Since(t)) }()
	return s.Source.(connectors.CounterFetcher).FetchCounters(ctx, date, counters, p)
}

// timed wraps src so its fetches are timed, keeping what it can do.
func timed(src connectors.Source, r *runRecorder) connectors.Source {
	ts := timedSource{src, r}
	if _, ok := src.(connectors.CounterFetcher); ok {
		return timedCounterSource{ts}
	}
	return ts
}
