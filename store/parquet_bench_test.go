package store

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"settle/connectors/demo"
	"settle/engine"
	"settle/feed"
)

// cityDayFeeds loads the demo city-day (2,285 counters, ~523,000 rows) into the engine's
// normalized feeds, as a run writes them.
func cityDayFeeds(b testing.TB) *engine.Loaded {
	b.Helper()
	cfg := demo.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	day, err := demo.New(cfg).Fetch(context.Background(), cfg.Date, nil)
	if err != nil {
		b.Fatal(err)
	}
	ecfg := engine.NewConfig()
	ecfg.Date = cfg.Date
	loaded, err := engine.Load(context.Background(), ecfg, day)
	if err != nil {
		b.Fatal(err)
	}
	return loaded
}

// BenchmarkWriteFeedsCityDay writes the nine feeds of the demo city-day as Parquet, one after
// the other, into memory: the Parquet share of a reconcile-only run (issue 17).
func BenchmarkWriteFeedsCityDay(b *testing.B) {
	loaded := cityDayFeeds(b)
	defer loaded.Release()
	var size int64
	for _, id := range feed.All {
		var buf bytes.Buffer
		if err := writeFeed(&buf, id, loaded.Feeds[id]); err != nil {
			b.Fatal(err)
		}
		size += int64(buf.Len())
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, id := range feed.All {
			if err := writeFeed(io.Discard, id, loaded.Feeds[id]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(size), "file-bytes")
}

// BenchmarkFeedKeyCityDay keys the nine feeds of the demo city-day (feedKey), as a refresh
// does to find the feeds it need not write again.
func BenchmarkFeedKeyCityDay(b *testing.B) {
	loaded := cityDayFeeds(b)
	defer loaded.Release()
	for b.Loop() {
		for _, id := range feed.All {
			if feedKey(id, loaded.Feeds[id]) == "" {
				b.Fatal("no key")
			}
		}
	}
}
