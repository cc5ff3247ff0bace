package web

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
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

// TestRevokedTornAppend: an append that fails half-way is cut back under the lock, so the
// next server's line is not glued onto its bytes; and torn bytes that stayed (a writer
// killed, a cut that failed) get a newline before the next line, which then still parses.
func TestRevokedTornAppend(t *testing.T) {
	p := filepath.Join(t.TempDir(), RevokedName)
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	log := slog.New(slog.DiscardHandler)
	a, err := openRevocations(p, now, log)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openRevocations(p, now, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.add("s1", clock.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	b.write = func(f *os.File, line []byte) (int, error) {
		n, _ := f.Write(line[:len(line)/2])
		return n, syscall.ENOSPC
	}
	if err := b.add("s2", clock.Add(time.Hour)); err == nil {
		t.Fatal("a failed append reported no error")
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(after, before) {
		t.Errorf("a failed append was not cut back:\n%q\nwant\n%q", after, before)
	}
	if !b.has("s2") {
		t.Error("the server whose logout failed to be written accepts the session")
	}
	b.write = nil
	if err := b.add("s3", clock.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !a.has("s1") || !a.has("s3") {
		t.Error("another server lost a logout written after a failed append")
	}

	// Half a line left in the file (nobody cut it back).
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(nonceDigest("s4")[:20])
	f.Close()
	if a.has("s4") {
		t.Error("half a line was read as a logout")
	}
	if err := b.add("s5", clock.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !a.has("s5") {
		t.Error("a logout appended after torn bytes was lost")
	}
	c, err := openRevocations(p, now, log) // a server starting drops the torn line
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"s1", "s3", "s5"} {
		if !c.has(s) {
			t.Errorf("a server starting after the torn line accepts %s", s)
		}
	}
	if data, _ := os.ReadFile(p); bytes.Count(data, []byte("\n")) != 3 || !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("after compaction: %q, want three whole lines", data)
	}
}
