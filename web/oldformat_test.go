package web

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"settle/money"
)

// TestLoadV1Run: the pages read a run stored in the earlier Parquet format (money int64
// fen, biz_date text; store/testdata/v1store): each counter's net is its settlement.csv's.
func TestLoadV1Run(t *testing.T) {
	dir := filepath.Join("..", "store", "testdata", "v1store", "2026-11-01", "runs", "20261205T163218.190Z-99e44491")
	rd, err := loadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "settlement.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, r := range rows[1:] {
		s, neg := r[9], false
		if s != "" && s[0] == '-' {
			s, neg = s[1:], true
		}
		v, err := money.Parse(s)
		if err != nil && s != "0.00" {
			t.Fatalf("net %q: %v", r[9], err)
		}
		if neg {
			v = -v
		}
		want[r[3]] += v
	}
	if len(want) == 0 || len(rd.byID) < len(want) {
		t.Fatalf("%d counters loaded, settlement.csv has %d", len(rd.byID), len(want))
	}
	for counter, net := range want {
		if c := rd.byID[counter]; c == nil || c.Net != net {
			t.Errorf("%s: net %+v, settlement.csv %d fen", counter, c, net)
		}
	}
}
