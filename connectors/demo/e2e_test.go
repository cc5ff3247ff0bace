package demo_test

import (
	"fmt"
	"testing"
	"time"

	"settle/connectors/conformance"
	"settle/connectors/demo"
	"settle/engine"
	"settle/fixtures"
)

// TestEngineFindsTruthDemo runs the demo source through the conformance suite at three
// anomaly rates, with feed faults at the highest: the engine must find exactly the
// generator's truth (conformance.Run reconciles with a checked allocator and releases the
// result).
func TestEngineFindsTruthDemo(t *testing.T) {
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	for _, rate := range []float64{0, 0.3, 1} {
		cfg := fixtures.NewConfig()
		cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies, cfg.FeedFaults = 30, 5, 5, rate, rate > 0.5
		// The day the demo serves: it always delivers whole-city canonical files.
		cfg.Date, cfg.Layout, cfg.Dialect = date, fixtures.LayoutCity, fixtures.DialectCanonical
		day, err := fixtures.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		conformance.Run(t, fmt.Sprint(rate), demo.New(cfg), day)
	}
	// Other dates are other days: the truth holds on them too, with the demo's own settings
	// (refunds of earlier days, raising REVERSAL_NO_HISTORY alone; the period patterns).
	for _, d := range []time.Time{time.Date(2025, 1, 1, 0, 0, 0, 0, engine.Shanghai), time.Date(2028, 2, 29, 0, 0, 0, 0, engine.Shanghai)} {
		cfg := demo.NewConfig()
		cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies = 12, 5, 9, 0.3
		cfg.Date, cfg.Layout, cfg.Dialect = d, fixtures.LayoutCity, fixtures.DialectCanonical
		day, err := fixtures.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		conformance.Run(t, d.Format("2006-01-02"), demo.New(cfg), day)
	}
}
