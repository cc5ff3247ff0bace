// Package demo is the built-in source: it generates a BOSS day in process with package
// fixtures (whole-city files in the canonical dialect), so settle runs on a fresh machine
// with no data at hand.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"settle/connectors"
	"settle/fixtures"
)

// Source generates the requested day with the generator settings it was made with.
type Source struct {
	cfg fixtures.Config
}

var _ connectors.Source = (*Source)(nil)

// NewConfig is the built-in demo day, what `--source demo` generates: the generator's
// defaults (a city of 457 outlets × 5 counters) with a few counters in a hundred carrying an
// anomaly, to show what settle finds. Each date is its own day over the same roster, and
// some counters refund sales of the three days before (CarryBack): run in date order, the
// look-back finds them in the store; a date run first shows REVERSAL_NO_HISTORY for them.
// Over a calendar month eight counters play the period patterns (fixtures.Config.Patterns).
func NewConfig() fixtures.Config {
	cfg := fixtures.NewConfig()
	cfg.Anomalies = 0.02
	cfg.CarryBack = 3
	cfg.Patterns = true // the period patterns, over each date's calendar month
	return cfg
}

// New returns a demo source. cfg.Date is ignored (Fetch's date is used), and so are
// cfg.Layout and cfg.Dialect: the demo always delivers whole-city canonical files.
func New(cfg fixtures.Config) *Source { return &Source{cfg: cfg} }

// Describe names the source, e.g. "demo (seed 1, 457 outlets × 5 counters)".
func (s *Source) Describe() string {
	return fmt.Sprintf("demo (seed %d, %d outlets × %d counters)", s.cfg.Seed, s.cfg.Outlets, s.cfg.Counters)
}

// Fetch generates date's day and renders each of its files to memory. Inputs are named as
// the files would be in a directory (order.csv, ...); with FeedFaults the day's
// unreadable file is among them and the footer fault is in its file. The roster is the
// generator's. The error is non-nil only for an unusable configuration or a cancelled ctx.
func (s *Source) Fetch(ctx context.Context, date time.Time, progress connectors.Progress) (*connectors.Day, error) {
	cfg := s.cfg
	cfg.Date = date
	cfg.Layout = fixtures.LayoutCity
	cfg.Dialect = fixtures.DialectCanonical
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := fixtures.Generate(cfg) // it validates cfg
	if err != nil {
		return nil, fmt.Errorf("demo source: %w", err)
	}
	files := d.Files()
	data := make([][]byte, len(files))
	errs := make([]error, len(files))
	var (
		mu   sync.Mutex
		done int
	)
	// Each file's error is kept by index: the one returned is the first file's, whichever
	// goroutine finished first.
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil
			}
			var buf bytes.Buffer
			buf.Grow(files[i].SizeHint())
			errs[i] = files[i].Write(&buf)
			data[i] = buf.Bytes()
			mu.Lock()
			done++
			n := done
			mu.Unlock()
			if progress != nil {
				progress.Step("generate", n, len(files))
			}
			return nil
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	day := &connectors.Day{Roster: d.Roster()}
	for i, f := range files {
		if errs[i] != nil {
			return nil, fmt.Errorf("demo source: render %s: %w", f.Name, errs[i])
		}
		b := data[i]
		day.Inputs = append(day.Inputs, connectors.Input{
			Feed:    f.Feed,
			Name:    f.Name,
			Counter: f.Counter,
			Format:  f.Format,
			Open:    connectors.Bytes(b),
		})
		day.Stats[f.Feed].Files++
		day.Stats[f.Feed].Bytes += int64(len(b))
	}
	return day, nil
}
