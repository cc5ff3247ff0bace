// Package job is one nightly run of settle, end to end: take the date's lock, fetch the
// day from a source, reconcile it, write the results and reports into a new run directory
// and publish it atomically. The command line is a thin layer over Run.
package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/connectors"
	"settle/engine"
	"settle/feed"
	"settle/report"
	"settle/store"
)

// Version is the tool version recorded in every manifest; set at build time with
// -ldflags "-X settle/job.Version=...".
var Version = "0.1.0-dev"

// Renderer writes the reports of a result into the run being written (package report): it
// creates its files through run (store.Run.Create), never in the run's directory itself.
type Renderer func(ctx context.Context, res *engine.Result, run *store.Run, meta store.Meta) error

var _ report.Creator = (*store.Run)(nil)

// Reports is the Renderer of the report package: opts as given, with the run's id, source
// and start time (shown in Asia/Shanghai) filled in from meta.
func Reports(opts report.Options) Renderer {
	return func(ctx context.Context, res *engine.Result, run *store.Run, meta store.Meta) error {
		o := opts
		o.RunID, o.Source = meta.RunID, meta.Source
		o.GeneratedAt = meta.StartedAt.In(engine.Shanghai)
		o.DayOpen = meta.DayOpen
		o.Reuse, o.ToolVersion = run, meta.ToolVersion // unchanged reports are the previous run's files
		return report.Render(ctx, res, run, o)
	}
}

// Config of one run.
type Config struct {
	Date        time.Time
	Source      connectors.Source
	Store       *store.Store
	Engine      engine.Config // Date and History are filled by Run
	Render      Renderer      // nil: no reports
	LockTimeout time.Duration
	FailOn      string // never, error, warning
	Log         *slog.Logger
	Progress    Progress
	// Now is the clock; SOURCE_DATE_EPOCH pins it (see Clock).
	Now func() time.Time
	// Counters, when not empty, makes the run a refresh: only these counters' inputs are
	// read from Source (a connectors.CounterFetcher), every other input is the one the
	// date's current run kept, and the whole day is reconciled again (refreshDay).
	Counters []string
	// TightLoad lowers the Go soft memory limit while the day is read, reconciled and
	// written (the run's peak when no reports are drawn) to loadLimit of the day's bytes, and
	// restores it when the reports begin (their garbage is collected at the usual pace).
	// Process-wide: for the command line, which runs one day (not for a server).
	TightLoad bool
}

// loadLimit is the soft memory limit while a day is loaded: six times the bytes of its inputs
// (a city-day's 56 MB of CSV are ~250 MB of heap while read), at least loadLimitFloor and never
// above the limit in force. A city-day pulled peaked at ~520 MB with the collector's default
// (collect when the heap doubles), ~390 MB under this, for about the same CPU.
func loadLimit(bytes int64, current int64) int64 {
	return min(current, max(loadLimitFloor, 6*bytes))
}

const loadLimitFloor = 320 << 20

// Progress is told what the run is doing, for a terminal.
type Progress interface {
	connectors.Progress
	Done()
}

// Outcome says what a finished run published.
type Outcome struct {
	RunID    string
	RunDir   string
	Complete bool
	// Worst is the most severe exception's severity ("" when none).
	Worst      engine.Severity
	Exceptions int
	Counters   int
}

// Errors of Run that the command maps to exit codes.
var (
	// ErrFailOn: the run was published, but exceptions at or above --fail-on exist.
	ErrFailOn = errors.New("exceptions at or above --fail-on")
	// ErrIncomplete: the run was published, but some feeds are missing or truncated.
	ErrIncomplete = errors.New("published incomplete")
)

// Clock returns the time source: SOURCE_DATE_EPOCH when set (reproducible builds), else
// the wall clock. A malformed SOURCE_DATE_EPOCH is an error naming it.
func Clock() (func() time.Time, error) {
	v, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || v == "" {
		return time.Now, nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs < 0 {
		return nil, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", v)
	}
	t := time.Unix(secs, 0).UTC()
	return func() time.Time { return t }, nil
}

// DayOpen reports whether the business day of date has not ended in Asia/Shanghai at now:
// date (its calendar day as given) is today or later there. A run of such a day is for a
// look only; its reports and manifest say so.
func DayOpen(date, now time.Time) bool {
	return date.Format(time.DateOnly) >= now.In(engine.Shanghai).Format(time.DateOnly)
}

// Run performs one run. On success the outcome is returned with a nil error, or with
// ErrIncomplete / ErrFailOn when the run was published but needs attention. Any other
// error means nothing was published and `current` is as it was, but for one wrapping
// store.ErrNotDurable: the run is current, but the date directory's fsync failed.
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	date := cfg.Date.Format("2006-01-02")
	unlock, err := cfg.Store.Lock(ctx, date, cfg.LockTimeout, func(holder string) {
		log.Warn("waiting for the lock of the date", "date", date, "holder", holder)
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := unlock(); err != nil {
			log.Error("release lock", "date", date, "err", err)
		}
	}()

	log.Info("fetching", "date", date, "source", cfg.Source.Describe(), "counters", len(cfg.Counters))
	// A source that receives its inputs (the BOSS API's pulls) keeps them in the store as
	// they arrive, rather than holding them until the engine reads them (issue 17).
	keeper, err := cfg.Store.Keeper(date)
	if err != nil {
		return nil, err
	}
	defer keeper.Flush()
	if len(cfg.Counters) == 0 {
		// A whole day's pulls are kept as they arrive: a folder that cannot be listed fails
		// the run before they are asked for (a refresh's few wait for Flush to say so).
		if err := keeper.Listed(); err != nil {
			return nil, err
		}
	}
	ecfg := cfg.Engine
	ecfg.Date = cfg.Date
	if ecfg.Mem == nil {
		ecfg.Mem = memory.DefaultAllocator
	}
	ecfg.History = storeHistory{cfg.Store, ecfg.Mem}
	if ecfg.CacheDir, err = cfg.Store.ParseCacheDir(date); err != nil {
		return nil, err
	}
	if cfg.Progress != nil && ecfg.Progress == nil {
		ecfg.Progress = func(done, total int) { cfg.Progress.Step("read", done, total) }
	}
	if len(cfg.Counters) > 0 {
		// A refresh reads the date's parse cache while its few pulls are on the network
		// (~60 ms of reading that had waited for them). A whole day's fetch does not: its
		// pulls take seconds, and the cache would be held in memory beside their bodies.
		ecfg.Ahead = engine.ReadCacheAhead(ecfg)
		defer ecfg.Ahead.Drop()
	}
	fctx := connectors.WithKeeper(ctx, keeper)
	var (
		day   *connectors.Day
		known map[string]store.KeptInput // inputs taken from the kept ones
	)
	// The date's current run, whose unchanged files this run takes as hard links (reuse),
	// and whose kept inputs a refresh takes. The date's lock keeps it current until the end.
	// Its manifest is read while the source is fetched (a refresh waits ~50 ms for it).
	var prev *store.Previous
	prevRead := make(chan struct{})
	go func() {
		defer close(prevRead)
		prev = cfg.Store.ReuseSource(date, log)
	}()
	defer func() { <-prevRead }()
	previous := func() *store.Previous {
		<-prevRead
		return prev
	}
	// The folders of the run's reports are made, and the current run's reports linked into
	// them, while its inputs are fetched (Store.Stage).
	cfg.Store.Stage(date, previous)
	defer cfg.Store.DropStage(date)
	if len(cfg.Counters) > 0 {
		day, known, err = refreshDay(fctx, cfg, date, previous, keeper)
	} else {
		day, err = cfg.Source.Fetch(fctx, cfg.Date, cfg.Progress)
		if err != nil {
			err = fmt.Errorf("fetch %s: %w", cfg.Source.Describe(), err)
		}
	}
	if err == nil {
		if err = keeper.Flush(); err != nil { // every body the source kept as it arrived is written
			err = fmt.Errorf("keep the inputs of %s: %w", date, err)
		}
	}
	if err != nil {
		return nil, err
	}
	// The raw inputs are kept in the store before anything is read from them: each input
	// is read and hashed by the store, and the engine parses the bytes it kept, as soon as
	// they are (KeepAsync); a failure to keep any fails the run once the day is loaded.
	waitKept, err := cfg.Store.KeepAsync(ctx, date, day, known)
	if err != nil {
		return nil, fmt.Errorf("keep the inputs of %s: %w", date, err)
	}
	keptDone := false
	defer func() {
		if !keptDone { // nothing of the store's reading outlives the run
			waitKept()
		}
	}()
	for _, m := range day.Missing {
		log.Warn("feed missing", "feed", m.Feed.String(), "counter", m.Counter, "reason", m.Reason)
	}

	// The run is begun as soon as the feeds are final (their digest names it), and the
	// feeds' Parquet is written while the rules run over them: it had been the longest
	// serial stretch of a reconcile-only run.
	var restore func()
	if cfg.TightLoad {
		var bytes int64
		for _, st := range day.Stats {
			bytes += st.Bytes
		}
		was := debug.SetMemoryLimit(-1)
		debug.SetMemoryLimit(loadLimit(bytes, was))
		restore = func() { debug.SetMemoryLimit(was) }
	}
	defer func() {
		if restore != nil {
			restore()
		}
	}()
	loaded, err := engine.Load(ctx, ecfg, day)
	kept, kerr := waitKept()
	keptDone = true
	if kerr != nil {
		if err == nil {
			loaded.Release()
		}
		return nil, fmt.Errorf("keep the inputs of %s: %w", date, kerr)
	}
	if err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", date, err)
	}
	runID := store.NewRunID(started, loaded.InputDigest+"\x00"+Version)
	run, err := cfg.Store.Begin(date, runID)
	if err != nil {
		loaded.Release()
		return nil, err
	}
	defer run.Abort()
	if kept != nil {
		run.ListKept(kept) // written while the day is reconciled, for the manifest to name
	}
	// Under SOURCE_DATE_EPOCH a report is reused only from a run of this very id, so that
	// the directory stays a function of the inputs, version and clock (OUTPUTS.md).
	run.ReuseFrom(previous(), os.Getenv("SOURCE_DATE_EPOCH") != "")
	feeds := loaded.Feeds
	for _, r := range feeds {
		if r != nil {
			r.Retain()
		}
	}
	feedsDone := make(chan error, 1)
	go func() {
		err := store.WriteFeeds(run, feeds)
		for _, r := range feeds {
			if r != nil {
				r.Release()
			}
		}
		feedsDone <- err
	}()
	defer func() {
		if feedsDone != nil {
			<-feedsDone
		}
	}()
	res, err := loaded.Apply()
	if err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", date, err)
	}
	defer res.Release()
	if err := refreshedKnown(cfg.Counters, res.Counters); err != nil {
		return nil, fmt.Errorf("refresh of %s: %w", date, err)
	}
	log.Info("reconciled", "date", date, "counters", len(res.Counters), "exceptions", len(res.Exceptions),
		"rejects", len(res.Rejects), "complete", res.Complete)

	// The tables and the reports are written at the same time: both only read res.
	written := make(chan error, 1)
	go func() { written <- store.WriteTables(run, res) }()
	meta := store.Meta{RunID: runID, Source: cfg.Source.Describe(), ToolVersion: Version, StartedAt: started,
		DayOpen: DayOpen(cfg.Date, started)}
	var renderErr error
	if cfg.Render != nil {
		if restore != nil { // the reports' garbage is better collected at the usual pace
			restore()
			restore = nil
		}
		renderErr = cfg.Render(ctx, res, run, meta)
	}
	if err := <-written; err != nil {
		return nil, fmt.Errorf("write run %s: %w", runID, err)
	}
	err = <-feedsDone
	feedsDone = nil
	if err != nil {
		return nil, fmt.Errorf("write run %s: %w", runID, err)
	}
	if renderErr != nil {
		return nil, fmt.Errorf("render reports of %s: %w", runID, renderErr)
	}
	if err := res.CacheWritten(); err != nil {
		log.Warn("the parse cache could not be written: the next run of the date reads every input again", "date", date, "err", err)
	}
	meta.FinishedAt = now()
	man := store.NewManifest(res, day, meta)
	man.Kept = kept
	if len(cfg.Counters) > 0 && kept != nil { // a refresh: the counters read afresh
		kept.Refreshed = slices.Sorted(slices.Values(cfg.Counters))
	}
	if err := store.WriteManifest(run, man); err != nil {
		return nil, fmt.Errorf("write manifest of %s: %w", runID, err)
	}
	if err := run.Publish(); err != nil {
		return nil, fmt.Errorf("publish %s: %w", runID, err)
	}
	if linked, copied := run.ReuseCounts(); linked+copied > 0 {
		log.Info("reused unchanged files of the previous run", "date", date, "linked", linked, "copied", copied)
	}
	if cfg.Progress != nil {
		cfg.Progress.Done()
	}
	dir := run.Dir() // the published directory now
	out := &Outcome{RunID: runID, RunDir: dir, Complete: res.Complete, Exceptions: len(res.Exceptions), Counters: len(res.Counters)}
	for _, e := range res.Exceptions {
		if e.Severity == engine.SevError {
			out.Worst = engine.SevError
			break
		}
		out.Worst = engine.SevWarning
	}
	log.Info("published", "date", date, "run_id", runID, "dir", dir)
	switch {
	case !res.Complete:
		return out, ErrIncomplete
	case failOn(cfg.FailOn, out.Worst):
		return out, ErrFailOn
	}
	return out, nil
}

func failOn(level string, worst engine.Severity) bool {
	switch level {
	case "error":
		return worst == engine.SevError
	case "warning":
		return worst != ""
	}
	return false
}

// storeHistory reads earlier days' stored runs for the reversal rules.
type storeHistory struct {
	s   *store.Store
	mem memory.Allocator
}

func (h storeHistory) Feed(date time.Time, id feed.ID) (arrow.RecordBatch, bool, error) {
	dir, ok, err := h.s.Current(date.Format("2006-01-02"))
	if err != nil || !ok {
		return nil, false, err
	}
	rec, err := store.ReadFeed(dir, id, h.mem)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return rec, true, nil
}
