package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"settle/engine"
	"settle/store"
)

func TestRunFileIncompleteAndBrokenPrevious(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settle.prom")
	if err := os.WriteFile(path, []byte("this is { not the text format\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	m := &store.Manifest{Status: store.StatusIncomplete, Counters: store.CounterCounts{Total: 5, Incomplete: 2},
		Feeds:      []store.FeedManifest{{Feed: "order", Pulls: 4, Retries: 2, Failures: 1, RowsRead: 10, Valid: 9, Rejected: 1}},
		Exceptions: store.ExceptionCounts{ByCode: map[engine.Code]int{engine.CodeFeedMissing: 1, "NEW_CODE": 2}}}
	prevErr, err := WriteRunFile(path, &Run{City: "ty", Started: t0, Finished: t0.Add(90 * time.Second), Published: true, Manifest: m,
		Stages: map[string]time.Duration{"fetch": time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if prevErr == nil {
		t.Error("a broken previous file was not reported")
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	for _, want := range []string{
		`settle_run_success{city="ty"} 0`,
		`settle_run_failures_total{city="ty"} 1`,
		`settle_run_status{city="ty",status="incomplete"} 1`,
		`settle_run_last_run_timestamp_seconds{city="ty"} 1.80000009e+09`,
		`settle_run_duration_seconds{city="ty",stage="total"} 90`,
		`settle_run_duration_seconds{city="ty",stage="fetch"} 60`,
		`settle_counters{city="ty",status="complete"} 3`,
		`settle_counters{city="ty",status="incomplete"} 2`,
		`settle_pulls_total{city="ty",feed="order",result="ok"} 3`,
		`settle_pulls_total{city="ty",feed="order",result="failed"} 1`,
		`settle_pulls_total{city="ty",feed="order",result="retry"} 2`,
		`settle_rows_total{city="ty",feed="order",outcome="rejected"} 1`,
		`settle_exceptions{city="ty",code="FEED_MISSING",severity="ERROR"} 1`,
		`settle_exceptions{city="ty",code="DEPOSIT_SHORT",severity="ERROR"} 0`,
		`settle_exceptions{city="ty",code="NEW_CODE",severity=""} 2`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("lacks %q", want)
		}
	}
	// No complete run ever: no last-success series (an alert on its absence fires).
	if strings.Contains(got, NameLastSuccess+"{") {
		t.Errorf("an incomplete run set the last success")
	}
	// The next run, complete, counts on from this file.
	m.Status = store.StatusComplete
	if _, err := WriteRunFile(path, &Run{City: "ty", Started: t0, Finished: t0.Add(time.Hour), Published: true, Manifest: m}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	for _, want := range []string{`settle_run_failures_total{city="ty"} 1`, `settle_run_last_success_timestamp_seconds{city="ty"} 1.8000036e+09`, `settle_run_success{city="ty"} 1`} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("second run lacks %q:\n%s", want, b)
		}
	}
}

// TestRunFileRefresh: a refresh is labelled (settle_run_refresh 1, the counters it read) and
// leaves the last success time to the full runs; a full run after it sets refresh back to 0.
func TestRunFileRefresh(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settle.prom")
	t0 := time.Unix(1_800_000_000, 0)
	m := &store.Manifest{Status: store.StatusComplete, Counters: store.CounterCounts{Total: 5}}
	read := func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for i, step := range []struct {
		refresh int
		end     time.Duration
		want    []string
	}{
		{0, time.Minute, []string{`settle_run_refresh{city="ty"} 0`, `settle_run_refreshed_counters{city="ty"} 0`,
			`settle_run_last_success_timestamp_seconds{city="ty"} 1.80000006e+09`}},
		{2, time.Hour, []string{`settle_run_refresh{city="ty"} 1`, `settle_run_refreshed_counters{city="ty"} 2`,
			`settle_run_success{city="ty"} 1`, `settle_run_last_run_timestamp_seconds{city="ty"} 1.8000036e+09`,
			`settle_run_last_success_timestamp_seconds{city="ty"} 1.80000006e+09`}},
		{0, 2 * time.Hour, []string{`settle_run_refresh{city="ty"} 0`, `settle_run_last_success_timestamp_seconds{city="ty"} 1.8000072e+09`}},
	} {
		if _, err := WriteRunFile(path, &Run{City: "ty", Started: t0, Finished: t0.Add(step.end), Published: true, Manifest: m, Refresh: step.refresh}); err != nil {
			t.Fatal(err)
		}
		got := read()
		for _, want := range step.want {
			if !strings.Contains(got, want+"\n") {
				t.Errorf("step %d lacks %q:\n%s", i, want, got)
			}
		}
	}
}
