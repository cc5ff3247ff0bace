package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"settle/store"
)

// seenDates is how many of the store's latest dates `settle users add` looks at for the ids
// the runs have seen.
const seenDates = 14

// seenIDs are the outlet and counter ids the current runs of the store's latest dates have
// seen; dates is how many dates had a current run (0: the store has no runs).
type seenIDs struct {
	outlets, counters map[string]bool
	dates             int
}

// storeSeen reads the current runs of the store's latest seenDates dates: their manifests'
// report paths (reports/<outlet>/<counter>.xlsx) and kept roster, or, for a run without
// reports or kept inputs, the outlet and counter columns of its variance.csv and
// settlement.csv. A store that does not exist has no runs; it is not created.
func storeSeen(dir string) (*seenIDs, error) {
	seen := &seenIDs{outlets: map[string]bool{}, counters: map[string]bool{}}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return seen, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store %q: %w", dir, err)
	}
	var dates []string
	for _, e := range ents {
		if _, err := time.Parse(time.DateOnly, e.Name()); err == nil && e.IsDir() {
			dates = append(dates, e.Name())
		}
	}
	if len(dates) == 0 {
		return seen, nil
	}
	st, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	slices.Sort(dates)
	for i := len(dates) - 1; i >= 0 && seen.dates < seenDates; i-- {
		runDir, ok, err := st.Current(dates[i])
		if err != nil || !ok {
			continue // a date being written or broken: the others tell
		}
		if err := seen.addRun(runDir); err != nil {
			return nil, err
		}
		seen.dates++
	}
	return seen, nil
}

func (s *seenIDs) add(outlet, counter string) {
	if outlet != "" {
		s.outlets[outlet] = true
	}
	if counter != "" {
		s.counters[counter] = true
	}
}

func (s *seenIDs) addRun(runDir string) error {
	m, err := store.ReadManifest(filepath.Join(runDir, store.ManifestName))
	if err != nil {
		return err
	}
	found := false
	for rel := range m.Outputs {
		parts := strings.Split(rel, "/")
		// reports/<outlet>/outlet.xlsx is the outlet's roll-up (the outlet is seen).
		if len(parts) == 3 && parts[0] == "reports" && strings.HasSuffix(parts[2], ".xlsx") {
			if parts[2] == "outlet.xlsx" {
				s.add(parts[1], "")
				found = true
				continue
			}
			s.add(parts[1], strings.TrimSuffix(parts[2], ".xlsx"))
			found = true
		}
	}
	if m.Kept != nil {
		for _, c := range m.Kept.Roster {
			s.add(c.Outlet, c.Counter)
			found = true
		}
	}
	if found {
		return nil
	}
	for _, name := range []string{"variance.csv", "settlement.csv"} {
		if err := s.addCSV(filepath.Join(runDir, name)); err != nil {
			return err
		}
	}
	return nil
}

// addCSV adds the outlet_id and counter_id columns of a run's table.
func (s *seenIDs) addCSV(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil // an empty table
	}
	oi, ci := slices.Index(head, "outlet_id"), slices.Index(head, "counter_id")
	if oi < 0 || ci < 0 {
		return nil
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		s.add(rec[oi], rec[ci])
	}
}

// unseen returns the ids of want that seen does not hold, in want's order.
func unseen(want []string, seen map[string]bool) []string {
	var out []string
	for _, id := range want {
		if !seen[id] {
			out = append(out, id)
		}
	}
	return out
}
