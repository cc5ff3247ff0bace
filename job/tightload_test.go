package job

import (
	"context"
	"errors"
	"runtime/debug"
	"testing"
	"time"

	"settle/connectors/file"
	"settle/engine"
	"settle/fixtures"
	"settle/report"
	"settle/store"
)

// TestTightLoad: with TightLoad the soft memory limit is loadLimit of the day's bytes while
// the inputs are read, the limit in force while the reports are drawn and after the run.
// (Not parallel: the limit is the process's.)
func TestTightLoad(t *testing.T) {
	const was = 1 << 30
	prev := debug.SetMemoryLimit(was)
	defer debug.SetMemoryLimit(prev)
	cfg := fixtures.NewConfig()
	cfg.Date = day1
	cfg.Outlets, cfg.Counters = 2, 2
	_, src := writeDay(t, cfg)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var loading, drawing int64
	ecfg := engine.NewConfig()
	ecfg.Progress = func(done, total int) { loading = debug.SetMemoryLimit(-1) }
	opts := report.NewOptions()
	render := Reports(opts)
	out, err := Run(t.Context(), Config{Date: day1, Source: file.New(src), Store: st, Engine: ecfg, LockTimeout: time.Minute,
		FailOn: "never", TightLoad: true,
		Render: func(ctx context.Context, res *engine.Result, run *store.Run, meta store.Meta) error {
			drawing = debug.SetMemoryLimit(-1)
			return render(ctx, res, run, meta)
		}})
	if out == nil && !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	if loading != loadLimitFloor { // a small day: six times its bytes is below the floor
		t.Errorf("limit while loading %d, want the floor %d", loading, loadLimitFloor)
	}
	if drawing != was {
		t.Errorf("limit while drawing the reports %d, want %d restored", drawing, was)
	}
	if got := debug.SetMemoryLimit(-1); got != was {
		t.Errorf("limit after the run %d, want %d", got, was)
	}
	for _, c := range []struct{ bytes, current, want int64 }{
		{1 << 20, 1 << 30, loadLimitFloor}, // small day: the floor
		{100 << 20, 1 << 30, 600 << 20},    // six times the bytes
		{1 << 30, 1792 << 20, 1792 << 20},  // never above the limit in force
		{1 << 20, 100 << 20, 100 << 20},    // nor raises a lower one
	} {
		if got := loadLimit(c.bytes, c.current); got != c.want {
			t.Errorf("loadLimit(%d, %d) = %d, want %d", c.bytes, c.current, got, c.want)
		}
	}
}

// TestDayClosedRendersAgain: reports of a run made while the day was open carry its mark;
// a rerun once the day is over (same inputs) renders every report again, not the marked ones.
func TestDayClosedRendersAgain(t *testing.T) {
	cfg := fixtures.NewConfig()
	cfg.Date = day1
	cfg.Outlets, cfg.Counters = 1, 2
	_, src := writeDay(t, cfg)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := func(now time.Time) *Outcome {
		out, err := Run(t.Context(), Config{Date: day1, Source: file.New(src), Store: st, Engine: engine.NewConfig(),
			Render: Reports(report.NewOptions()), LockTimeout: time.Minute, FailOn: "never", Now: func() time.Time { return now }})
		if out == nil {
			t.Fatal(err)
		}
		return out
	}
	open := run(day1.Add(10 * time.Hour))
	closed := run(day1.Add(30 * time.Hour))
	m := manifestOf(t, closed.RunDir)
	if len(m.Reports) == 0 {
		t.Fatal("no reports recorded")
	}
	for rel, rec := range m.Reports {
		if rec.RenderedIn != closed.RunID {
			t.Errorf("%s reused from the open day's run %s (rendered in %s)", rel, open.RunID, rec.RenderedIn)
		}
	}
}
