package main

// The month-end close's adapters: where `settle period` finds sign-offs, open items and its
// trail. This is the one place to swap when the workflow database (<store>/workflow.db)
// replaces the sign-off log: its Pinned(ctx, date, outlet, counter) becomes
// period.SignOffs, its open items period.Items (with age and overdue; ITEMS_OVERDUE then
// fires), its Append period.Trail (instead of <store>/periods/periods.log).

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"settle/period"
	"settle/web"
	"settle/web/signoff"
)

// periodSources opens what `settle period` reads besides the runs.
func periodSources(storeDir string) (period.SignOffs, period.Items, period.Trail, func(), error) {
	so, closeLog, err := openSignOffs(storeDir)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	// No item store exists before the workflow database: no open items, open_items.csv is
	// its header only and ITEMS_OVERDUE cannot fire.
	return so, period.NoItems{}, period.FileTrail{StoreDir: storeDir}, closeLog, nil
}

// logSignOffs is period.SignOffs over the sign-off log (web/signoff).
type logSignOffs struct{ log *signoff.Log }

func (s logSignOffs) Day(_ context.Context, date string) (map[period.DayKey]period.SignOff, error) {
	out := map[period.DayKey]period.SignOff{}
	if s.log == nil {
		return out, nil
	}
	evs, err := s.log.Events(date)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		k := period.DayKey{Outlet: e.Outlet, Counter: e.Counter}
		if _, done := out[k]; done {
			continue
		}
		st, err := s.log.State(e.Key())
		if err != nil {
			return nil, err
		}
		switch st.Status {
		case signoff.StatusApproved:
			out[k] = period.SignOff{Status: period.SignApproved, RunID: st.RunID}
		case signoff.StatusCertified:
			out[k] = period.SignOff{Status: period.SignCertified, RunID: st.RunID}
		default:
			out[k] = period.SignOff{Status: period.SignOpen}
		}
	}
	return out, nil
}

// openSignOffs opens <store>/signoff.log when there is one, checking its lines' MACs with
// <store>/signoff.key when that is there; a store without a log has every counter-day open.
func openSignOffs(storeDir string) (period.SignOffs, func(), error) {
	path := filepath.Join(storeDir, signoff.FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return logSignOffs{}, func() {}, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("sign-off log: %w", err)
	}
	key, err := os.ReadFile(filepath.Join(storeDir, web.SignoffKeyName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("sign-off key: %w", err)
	}
	l, err := signoff.Open(path, key, signoff.Options{})
	if err != nil {
		return nil, nil, err
	}
	return logSignOffs{log: l}, func() { l.Close() }, nil
}
