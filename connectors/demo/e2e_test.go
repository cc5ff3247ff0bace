package demo_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"settle/connectors/demo"
	"settle/engine"
	"settle/fixtures"
)

func compare(t *testing.T, truth []fixtures.TruthRow, res *engine.Result) {
	t.Helper()
	want := map[string]int{}
	for _, r := range truth {
		want[strings.Join(r.Strings(), ",")]++
	}
	got := map[string]int{}
	for i := range res.Exceptions {
		f := engine.ExceptionFields(&res.Exceptions[i])
		got[strings.Join(f[:8], ",")]++
	}
	var msgs []string
	for k, n := range want {
		if got[k] != n {
			msgs = append(msgs, fmt.Sprintf("truth %d, engine %d: %s", n, got[k], k))
		}
	}
	for k, n := range got {
		if want[k] == 0 {
			msgs = append(msgs, fmt.Sprintf("truth 0, engine %d: %s", n, k))
		}
	}
	sort.Strings(msgs)
	if len(msgs) > 0 {
		t.Errorf("%d differences:\n%s", len(msgs), strings.Join(msgs[:min(60, len(msgs))], "\n"))
	}
}

func TestEngineFindsTruthDemo(t *testing.T) {
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for _, rate := range []float64{0, 0.3, 1} {
		cfg := fixtures.NewConfig()
		cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies, cfg.FeedFaults = 30, 5, 5, rate, rate > 0.5
		day, err := demo.New(cfg).Fetch(context.Background(), date, nil)
		if err != nil {
			t.Fatal(err)
		}
		ec := engine.NewConfig()
		ec.Date = date
		res, err := engine.Reconcile(context.Background(), ec, day)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Date, cfg.Layout, cfg.Dialect = date, fixtures.LayoutCity, fixtures.DialectCanonical
		gen, _ := fixtures.Generate(cfg)
		t.Run(fmt.Sprint(rate), func(t *testing.T) { compare(t, gen.Truth, res) })
	}
}
