package main

// The month-end close's adapters: where `settle period` finds sign-offs, open items and its
// trail. All three are the workflow database (<store>/workflow.db, package workflow), which
// imports an older <store>/signoff.log on first open:
//   - sign-offs: workflow.PeriodSignOffs (the pinned run of each certified or approved
//     counter-day, one query per date);
//   - items: workflow.PeriodItems (every date of the period reconciled with its runs of record
//     first, so that a run published by `settle run` has its items; then the items open,
//     explained or rejected, with age and overdue as of the period's end);
//   - trail: workflow.PeriodTrail (a close or reopening is an event of the chained, MACed log,
//     written before closed.json).

import (
	"fmt"

	"settle/job"
	"settle/period"
	"settle/store"
	"settle/workflow"
)

// periodSources opens what `settle period` reads besides the runs, with the default SLA.
func periodSources(storeDir string) (period.SignOffs, period.Items, period.Trail, func(), error) {
	return periodSourcesSLA(storeDir, workflow.DefaultSLADays)
}

// periodSourcesSLA is periodSources with items overdue after slaDays days (0: any day old).
func periodSourcesSLA(storeDir string, slaDays int) (period.SignOffs, period.Items, period.Trail, func(), error) {
	now, err := job.Clock()
	if err != nil {
		return nil, nil, nil, nil, usageError{err}
	}
	st, err := store.Open(storeDir)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if slaDays == 0 {
		slaDays = -1 // zero days, not the default
	}
	db, err := workflow.Open(st.Dir(), workflow.Options{Now: now, SLADays: slaDays})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("workflow database: %w", err)
	}
	return workflow.PeriodSignOffs{DB: db}, workflow.PeriodItems{DB: db, Store: st}, workflow.PeriodTrail{DB: db},
		func() { db.Close() }, nil
}
