package demo

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"settle/connectors"
	"settle/feed"
	"settle/fixtures"
)

func TestFetch(t *testing.T) {
	cfg := fixtures.NewConfig()
	cfg.Outlets, cfg.Counters, cfg.Seed = 3, 2, 7
	cfg.Layout, cfg.Dialect = fixtures.LayoutCounter, fixtures.DialectBOSS // ignored by the demo
	s := New(cfg)
	if got, want := s.Describe(), "demo (seed 7, 3 outlets × 2 counters)"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	day, err := s.Fetch(context.Background(), date, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(day.Inputs) != int(feed.Count) {
		t.Fatalf("got %d inputs, want %d", len(day.Inputs), feed.Count)
	}
	if len(day.Roster) != 6 || day.Roster[0] != (connectors.Counter{City: "TY", Outlet: "TY0001", Counter: "TY0001-01"}) {
		t.Errorf("roster = %v", day.Roster)
	}
	cfg.Date, cfg.Layout, cfg.Dialect = date, fixtures.LayoutCity, fixtures.DialectCanonical
	d, err := fixtures.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[feed.ID]bool{}
	for _, in := range day.Inputs {
		if want := in.Feed.String() + ".csv"; in.Name != want || in.Counter != "" || in.Pull || in.Format != connectors.CSV {
			t.Errorf("input %+v, want name %q, city-wide CSV file", in, want)
		}
		seen[in.Feed] = true
		for range 2 { // Open may be called more than once
			rc, err := in.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			var want bytes.Buffer
			if err := fixtures.RenderCSV(&want, d, in.Feed, "", fixtures.DialectCanonical); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("%s: bytes differ from RenderCSV", in.Name)
			}
			if st := day.Stats[in.Feed]; st.Files != 1 || st.Bytes != int64(len(got)) {
				t.Errorf("%s: stats %+v, want 1 file of %d bytes", in.Name, st, len(got))
			}
		}
	}
	if len(seen) != int(feed.Count) {
		t.Errorf("feeds delivered: %v", seen)
	}
}

func TestFetchFeedFaults(t *testing.T) {
	cfg := fixtures.NewConfig()
	cfg.Outlets, cfg.Counters, cfg.FeedFaults = 2, 2, true
	day, err := New(cfg).Fetch(context.Background(), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(day.Inputs) != int(feed.Count)+1 {
		t.Errorf("got %d inputs, want the nine feeds and the unreadable one", len(day.Inputs))
	}
}

func TestFetchBadConfig(t *testing.T) {
	cfg := fixtures.NewConfig()
	cfg.Outlets = 0
	_, err := New(cfg).Fetch(context.Background(), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), nil)
	if err == nil || err.Error() != "demo source: --outlets: must be between 1 and 9999, got 0" {
		t.Errorf("err = %v", err)
	}
}

func TestFetchCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(fixtures.NewConfig()).Fetch(ctx, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), nil); err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func BenchmarkFetch(b *testing.B) {
	s := New(fixtures.NewConfig())
	date := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Fetch(context.Background(), date, nil); err != nil {
			b.Fatal(err)
		}
	}
}
