// Package kept is the source of a date's kept inputs (`settle run --source store:DATE`): the
// raw bytes the date's current run read, as the store kept them (store.Keep), given to the
// engine again. A rerun from them needs neither BOSS nor the export folder.
package kept

import (
	"context"
	"fmt"
	"time"

	"settle/connectors"
	"settle/store"
)

// Source reads the kept inputs of one run of a date.
type Source struct {
	st   *store.Store
	date string // YYYY-MM-DD
	run  string // the run whose inputs are read; "" for the date's current run
}

// New returns the source of the kept inputs of date's current run in st (run "" ) or of the
// run with that id.
func New(st *store.Store, date, run string) *Source { return &Source{st: st, date: date, run: run} }

// Describe names the store's date ("store:2026-11-21"); the manifest's kept section names
// the inputs.
func (s *Source) Describe() string {
	if s.run != "" {
		return "store:" + s.date + "@" + s.run
	}
	return "store:" + s.date
}

// Fetch rebuilds the day. date must be the source's date: kept inputs are of one day.
func (s *Source) Fetch(ctx context.Context, date time.Time, progress connectors.Progress) (*connectors.Day, error) {
	if d := date.Format("2006-01-02"); d != s.date {
		return nil, fmt.Errorf("%s: the run is of %s; kept inputs are of %s", s.Describe(), d, s.date)
	}
	dir, err := s.runDir()
	if err != nil {
		return nil, err
	}
	day, _, err := s.st.KeptDay(s.date, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Describe(), err)
	}
	if progress != nil {
		progress.Step("read", len(day.Inputs), len(day.Inputs))
	}
	return day, ctx.Err()
}

func (s *Source) runDir() (string, error) {
	if s.run != "" {
		return s.st.RunDir(s.date, s.run)
	}
	dir, ok, err := s.st.Current(s.date)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.Describe(), err)
	}
	if !ok {
		return "", fmt.Errorf("%s: the date has no run", s.Describe())
	}
	return dir, nil
}
