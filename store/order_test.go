package store

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestOrderFollowsPublicationNotClock: with the clock set back between runs, each run's id
// sorts before the one published before it; current must still name the run published last
// and Runs must list the runs in the order they were published.
func TestOrderFollowsPublicationNotClock(t *testing.T) {
	s := lockedStore(t)
	clock := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var published []string
	for i := range 5 {
		id := NewRunID(clock, "inputs")
		writeRun(t, s, id, map[string]string{"a.csv": id})
		published = append(published, id)
		clock = clock.Add(-time.Duration(i+1) * time.Hour) // the clock goes backwards
	}
	dir, ok, err := s.Current(testDate)
	if err != nil || !ok || filepath.Base(dir) != published[4] {
		t.Fatalf("Current = %q, %v, %v; want the run published last, %s", dir, ok, err, published[4])
	}
	ids, err := s.Runs(testDate)
	if err != nil || !slices.Equal(ids, published) {
		t.Fatalf("Runs = %q, %v;\nwant the publication order %q", ids, err, published)
	}
	// A rerun of the same id (SOURCE_DATE_EPOCH) moves that run to the end.
	writeRun(t, s, published[1], map[string]string{"a.csv": "again"})
	want := []string{published[0], published[2], published[3], published[4], published[1]}
	if ids, err := s.Runs(testDate); err != nil || !slices.Equal(ids, want) {
		t.Errorf("Runs after a rerun of %s = %q, %v;\nwant %q", published[1], ids, err, want)
	}
}

// TestOrderOfRunsWrittenBefore: runs published before the store recorded publication order
// have no record: they keep their old order (by id) and come before every recorded run.
func TestOrderOfRunsWrittenBefore(t *testing.T) {
	s := lockedStore(t)
	for _, id := range []string{"20261122T030000Z-cccccccc", "20261122T010000Z-aaaaaaaa", "20261122T020000Z-bbbbbbbb"} {
		writeRun(t, s, id, map[string]string{"a.csv": id})
	}
	// Take the records away: the three runs are now as an older settle left them.
	if err := os.RemoveAll(filepath.Join(s.Dir(), testDate, publishedName)); err != nil {
		t.Fatal(err)
	}
	old := []string{"20261122T010000Z-aaaaaaaa", "20261122T020000Z-bbbbbbbb", "20261122T030000Z-cccccccc"}
	if ids, err := s.Runs(testDate); err != nil || !slices.Equal(ids, old) {
		t.Fatalf("Runs of unrecorded runs = %q, %v; want by id %q", ids, err, old)
	}
	writeRun(t, s, "20261121T230000Z-00000000", map[string]string{"a.csv": "new"})
	want := append(slices.Clone(old), "20261121T230000Z-00000000")
	if ids, err := s.Runs(testDate); err != nil || !slices.Equal(ids, want) {
		t.Errorf("Runs = %q, %v; want %q", ids, err, want)
	}
	if dir, _, _ := s.Current(testDate); filepath.Base(dir) != "20261121T230000Z-00000000" {
		t.Errorf("Current = %q", dir)
	}
}

// TestPrevious: the run before a run is the one published before it, whatever the clock
// said; a date's single run stands for itself; a first run or a foreign id has none.
func TestPrevious(t *testing.T) {
	s := lockedStore(t)
	clock := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	first := NewRunID(clock, "inputs")
	writeRun(t, s, first, map[string]string{"a.csv": "1"})
	if prev, single, err := s.Previous(testDate, first); err != nil || !single || prev != first {
		t.Fatalf("Previous of the single run = %q, %v, %v; want itself, single", prev, single, err)
	}
	second := NewRunID(clock.Add(-time.Hour), "inputs") // the clock went back: it sorts first
	writeRun(t, s, second, map[string]string{"a.csv": "2"})
	tests := []struct {
		id, want string
		noPrev   bool
	}{
		{second, first, false},
		{first, "", true},
		{"20261122T000000Z-ffffffff", "", true},
	}
	for _, tt := range tests {
		prev, single, err := s.Previous(testDate, tt.id)
		if tt.noPrev {
			if !errors.Is(err, ErrNoPrevious) {
				t.Errorf("Previous(%s) = %q, %v, %v; want ErrNoPrevious", tt.id, prev, single, err)
			}
			continue
		}
		if err != nil || single || prev != tt.want {
			t.Errorf("Previous(%s) = %q, %v, %v; want %q", tt.id, prev, single, err, tt.want)
		}
	}
}
