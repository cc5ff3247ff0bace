package job

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"settle/connectors"
	"settle/engine"
	"settle/feed"
	"settle/store"
)

// refreshDay is the day of a refresh (Config.Counters): the named counters' inputs read
// afresh from the source (connectors.CounterFetcher), with every other input taken from the
// inputs the date's current run kept. Whole-city inputs the source gives afresh replace the
// kept ones of their feed. The whole day is then reconciled as in any run.
//
// It also returns the kept inputs taken, by name, for store.Keep.
//
// previous gives the date's current run as ReuseSource read it, once it is read (nil: the
// manifest is read here); keeper is the run's Keeper, which knows the kept files there are.
func refreshDay(ctx context.Context, cfg Config, date string, previous func() *store.Previous, keeper *store.Keeper) (*connectors.Day, map[string]store.KeptInput, error) {
	cf, ok := cfg.Source.(connectors.CounterFetcher)
	if !ok {
		return nil, nil, fmt.Errorf("refresh of %s: the source %s cannot read single counters", date, cfg.Source.Describe())
	}
	cur, ok, err := cfg.Store.Current(date)
	if err != nil {
		return nil, nil, fmt.Errorf("refresh of %s: %w", date, err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("refresh of %s: the date has no run to refresh (run it whole first)", date)
	}
	fresh, err := cf.FetchCounters(ctx, cfg.Date, cfg.Counters, cfg.Progress)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %s: %w", cfg.Source.Describe(), err)
	}
	named := make(map[string]bool, len(cfg.Counters))
	for _, c := range cfg.Counters {
		named[c] = true
	}
	var freshCity [feed.Count]bool // feeds the source gave whole-city inputs (or their absence) of
	for _, in := range fresh.Inputs {
		if in.Counter == "" {
			freshCity[in.Feed] = true
		}
	}
	for _, m := range fresh.Missing {
		if m.Counter == "" {
			freshCity[m.Feed] = true
		}
	}
	cityFresh := func(name string) bool {
		id, ok := feed.ByName(name)
		return ok && freshCity[id]
	}
	takeInput := func(ki store.KeptInput) bool {
		if ki.Counter == "" {
			return !cityFresh(ki.Feed)
		}
		return !named[ki.Counter]
	}
	takeMissing := func(km store.KeptMissing) bool {
		if km.Counter == "" {
			return !cityFresh(km.Feed)
		}
		return !named[km.Counter]
	}
	var (
		kept *connectors.Day
		m    *store.Manifest
	)
	if prev := previous(); prev != nil && prev.Dir == cur {
		kept, m, err = cfg.Store.KeptSubsetOf(date, prev.Manifest, takeInput, takeMissing)
	} else {
		if m, err = store.ReadManifest(filepath.Join(cur, store.ManifestName)); err == nil {
			kept, m, err = cfg.Store.KeptSubsetOf(date, m, takeInput, takeMissing)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("refresh of %s: %w", date, err)
	}
	// An input taken from the kept ones is not read again (the engine's parse cache has what
	// its bytes gave), but one whose kept file is gone is looked for as before the cache, so
	// that the refresh fails naming it and publishes nothing.
	for i := range kept.Inputs {
		if in := &kept.Inputs[i]; in.Kept != "" && (keeper == nil || !keeper.Has(in.Kept)) {
			in.Kept, in.Size = "", 0
		}
	}
	day := &connectors.Day{Roster: fresh.Roster}
	if day.Roster == nil {
		day.Roster = kept.Roster
	}
	day.Inputs = append(kept.Inputs, fresh.Inputs...)
	connectors.SortInputs(day.Inputs)
	day.Missing = append(kept.Missing, fresh.Missing...)
	slices.SortStableFunc(day.Missing, func(a, b connectors.Missing) int {
		return cmp.Or(cmp.Compare(a.Feed, b.Feed), strings.Compare(a.Counter, b.Counter))
	})
	for i := range day.Stats {
		k, f := kept.Stats[i], fresh.Stats[i]
		day.Stats[i] = connectors.FeedStats{Files: k.Files + f.Files, Pulls: k.Pulls + f.Pulls, Retries: f.Retries,
			Failures: f.Failures, Bytes: k.Bytes + f.Bytes}
	}
	return day, m.Taken(takeInput), nil
}

// refreshedKnown refuses a refresh that names a counter the reconciled day does not have: a
// mistyped id would otherwise publish a run "refreshing" nothing (a folder source cannot tell
// an unknown counter from one whose rows sit in whole-city files until the day is read).
func refreshedKnown(named []string, counters []engine.CounterInfo) error {
	if len(named) == 0 {
		return nil
	}
	have := make(map[string]bool, len(counters))
	for _, c := range counters {
		have[c.Counter] = true
	}
	var unknown []string
	for _, c := range named {
		if !have[c] {
			unknown = append(unknown, c)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("no input of the day names counter %s: nothing published (a mistyped --counters?)", strings.Join(unknown, ", "))
	}
	return nil
}
