package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestBigFileStartsWriteback: a run's file past writebackAt (its writeback started when it
// is closed) and a small one are published with their bytes and checksums.
func TestBigFileStartsWriteback(t *testing.T) {
	s := lockedStore(t)
	big := bytes.Repeat([]byte("TY0001-01,12.00\n"), writebackAt/8)
	run := writeRun(t, s, "r1", map[string]string{"feeds/big.parquet": string(big), "small.csv": "x\n"})
	got, err := os.ReadFile(filepath.Join(run.Dir(), "feeds", "big.parquet"))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("the big file reads back %d bytes (%v), want %d", len(got), err, len(big))
	}
	sums, err := checksums(run.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if sums["feeds/big.parquet"].Size != int64(len(big)) || sums["small.csv"].Size != 2 {
		t.Errorf("published sizes %+v", sums)
	}
}
