package web

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// TestRevokedAfterCompaction: server A keeps running while B logs sessions out and C starts
// (compacting web.revoked: a new file, here bigger than what A had read). A must still read
// every logout, from the start of the new file, not from its offset in the old one.
func TestRevokedAfterCompaction(t *testing.T) {
	p := filepath.Join(t.TempDir(), RevokedName)
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	log := slog.New(slog.DiscardHandler)
	b, err := openRevocations(p, now, log)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.add("old1", clock.Add(time.Minute)))
	must(b.add("s2", clock.Add(time.Hour)))
	must(b.add("s3", clock.Add(time.Hour)))
	a, err := openRevocations(p, now, log)
	must(err)
	a.has("x") // A has read three lines
	must(b.add("s4", clock.Add(time.Hour)))
	must(b.add("s5", clock.Add(time.Hour)))
	clock = clock.Add(2 * time.Minute)
	if _, err := openRevocations(p, now, log); err != nil { // C starts: drops old1, writes 4 lines
		t.Fatal(err)
	}
	for _, s := range []string{"s2", "s3", "s4", "s5"} {
		if !a.has(s) {
			t.Errorf("server A accepts the logged-out session %s after another server compacted the file", s)
		}
	}
	// And after a compaction to the very same size as A's offset.
	must(b.add("s6", clock.Add(time.Minute)))
	a.has("x")
	clock = clock.Add(2 * time.Minute)
	must(b.add("s7", clock.Add(time.Hour)))                 // A has not read this one
	if _, err := openRevocations(p, now, log); err != nil { // drops s6: 5 lines, A's offset
		t.Fatal(err)
	}
	if !a.has("s7") {
		t.Error("server A accepts s7 after a compaction to the size it had read")
	}
}
