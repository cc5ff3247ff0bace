package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"settle/engine"
	"settle/fixtures"
)

// TestDuplicatesWhateverTheWorkers: the repeated txn_ids of a day (found by shares of their
// hashes, one worker a share) are the same findings and rejects, and the feeds the same rows,
// whatever the number of workers, one worker being one pass over every row in canonical order.
func TestDuplicatesWhateverTheWorkers(t *testing.T) {
	for _, layout := range []string{fixtures.LayoutCity, fixtures.LayoutCounter} {
		day := cacheDay(t, layout)
		run := func(workers int) *engine.Result {
			cfg := engine.NewConfig()
			cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
			cfg.Workers = workers
			res, err := engine.Reconcile(context.Background(), cfg, day)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(res.Release)
			return res
		}
		want := run(1)
		sev := map[engine.Severity]int{}
		for _, e := range want.Exceptions {
			if e.Code == engine.CodeDuplicateTxn && e.TxnID != "" {
				sev[e.Severity]++
			}
		}
		if sev[engine.SevWarning] == 0 || sev[engine.SevError] == 0 {
			t.Fatalf("%s: the day should repeat txn_ids, identical and not (%v)", layout, sev)
		}
		for _, workers := range []int{2, 3, 8} {
			sameResult(t, fmt.Sprintf("%s, %d workers", layout, workers), run(workers), want)
		}
	}
}
